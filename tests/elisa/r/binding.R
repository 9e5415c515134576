# Reference values for nocilab.stats.binding_analysis on the simulated per-cell table
# tests/data/elisa/binding_cells.csv with tests/data/elisa/binding_images.csv (written by
# make_binding_data.py).
#
# Run from the repository root:
#     Rscript tests/elisa/r/binding.R
#
# Threshold per class: quantile(intensity of the control donors' cells, 0.99, type = 7).
# A cell binds when its intensity is above it. Per image the fraction of neurons and of
# SGC rings that bind; per donor the mean over its images; the binding score is the mean
# SGC fraction. Arms are compared on the donor scores by t.test (Welch) and wilcox.test
# (exact: no ties, fewer than 50 donors).
#
# Writes tests/elisa/r/reference_binding_thresholds.csv, _donors.csv and _tests.csv.
cells <- read.csv("tests/data/elisa/binding_cells.csv", check.names = FALSE,
                  stringsAsFactors = FALSE)
images <- read.csv("tests/data/elisa/binding_images.csv", stringsAsFactors = FALSE)
d <- merge(cells, images, by.x = "Image", by.y = "image")
d$kind <- ifelse(d$Class == "Neuron", "neuron", "sgc")
fmt <- function(df) {
  for (j in seq_along(df)) if (is.numeric(df[[j]])) df[[j]] <- sprintf("%.17g", df[[j]])
  df
}
thr <- sapply(c("neuron", "sgc"), function(k)
  quantile(d[["Mean intensity"]][d$arm == "control" & d$kind == k], 0.99, type = 7,
           names = FALSE))
d$above <- d[["Mean intensity"]] > thr[d$kind]
per_image <- aggregate(above ~ Image + donor + arm + kind, data = d, FUN = mean)
per_donor <- aggregate(above ~ donor + arm + kind, data = per_image, FUN = mean)
donors <- reshape(per_donor, idvar = c("donor", "arm"), timevar = "kind", direction = "wide")
names(donors) <- c("donor", "arm", "neuron_fraction", "sgc_fraction")
donors <- donors[order(donors$donor), ]
s_p <- donors$sgc_fraction[donors$arm == "patient"]
s_c <- donors$sgc_fraction[donors$arm == "control"]
tt <- t.test(s_p, s_c)
wt <- wilcox.test(s_p, s_c, exact = TRUE)
tests <- data.frame(test = c("welch", "mann-whitney"),
                    statistic = c(unname(tt$statistic), unname(wt$statistic)),
                    df = c(unname(tt$parameter), NA), p = c(tt$p.value, wt$p.value),
                    ci_low = c(tt$conf.int[1], NA), ci_high = c(tt$conf.int[2], NA))
write.csv(fmt(data.frame(cell_class = names(thr), threshold = unname(thr))),
          "tests/elisa/r/reference_binding_thresholds.csv", row.names = FALSE)
write.csv(fmt(donors), "tests/elisa/r/reference_binding_donors.csv", row.names = FALSE)
write.csv(fmt(tests), "tests/elisa/r/reference_binding_tests.csv", row.names = FALSE,
          na = "")
