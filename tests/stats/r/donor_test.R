# Reference values for nocilab.stats.donor_test: the donor-level test of the arm effect
# (Student t on donor means of each animal's mean change from baseline over the window,
# variance pooled over all arms), computed with lm() on the data sets of make_data.py.
#
# Run from the repository root (after tests/stats/r/make_data.py):
#     Rscript tests/stats/r/donor_test.R
#
# Baseline: day -1. Window: every day > 0. Units: donors (each animal is its own unit
# where the data set has no donor column).

suppressPackageStartupMessages(library(emmeans))
ref_dir <- "tests/stats/reference"

one <- function(name) {
  d <- read.csv(file.path(ref_dir, paste0(name, ".csv")))
  if (!"donor" %in% names(d)) d$donor <- d$animal
  base <- aggregate(value ~ animal, data = d[d$study_day < 0, ], FUN = mean)
  post <- aggregate(value ~ animal + donor + arm, data = d[d$study_day > 0, ], FUN = mean)
  a <- merge(post, base, by = "animal", suffixes = c("", "_base"))
  a$change <- a$value - a$value_base
  u <- aggregate(change ~ donor + arm, data = a, FUN = mean)
  u$arm <- relevel(factor(u$arm), ref = "control")
  fit <- lm(change ~ arm, data = u)
  co <- summary(fit)$coefficients
  ci <- confint(fit)
  rows <- grep("^arm", rownames(co))
  out <- data.frame(arm = sub("^arm", "", rownames(co)[rows]),
                    difference = co[rows, 1], se = co[rows, 2], t = co[rows, 3],
                    p = co[rows, 4], df = fit$df.residual,
                    ci_low = ci[rows, 1], ci_high = ci[rows, 2])
  for (j in 2:ncol(out)) out[[j]] <- sprintf("%.17g", out[[j]])
  write.csv(out, file.path(ref_dir, paste0(name, "__donor_test.csv")), row.names = FALSE)
  if (nlevels(u$arm) > 2) {
    # adjusted over the treatment arms: Dunnett (exact, mvtnorm), Holm, Sidak
    set.seed(1)
    em <- emmeans(fit, "arm")
    adj <- data.frame(arm = levels(u$arm)[-1])
    for (m in c("mvt", "holm", "sidak")) {
      s <- summary(contrast(em, "trt.vs.ctrl", ref = 1), adjust = m)
      adj[[m]] <- sprintf("%.17g", s$p.value)
    }
    write.csv(adj, file.path(ref_dir, paste0(name, "__donor_test_adjusted.csv")),
              row.names = FALSE)
  }
}

for (name in c("balanced", "unbalanced", "three_arms", "no_donor", "one_per_donor")) one(name)
