# Reference 4PL fits for the simulated multiplex plate (tests/data/elisa/multiplex_*.csv,
# written by make_multiplex_data.py): for each analyte, the mean of its blank wells is
# subtracted and nls(y ~ SSfpl(log(concentration), A, B, xmid, scal)) is fitted to its
# own standards (the layout's rows for that analyte), started from the standards' range
# and mid-point; nls.control(tol = 1e-8). IL17A's standards are out of order
# and nocilab refuses that curve, so it is not fitted here.
#
# Run from the repository root:
#     Rscript tests/elisa/r/multiplex.R
#
# Writes tests/elisa/r/reference_multiplex.csv (analyte, parameter, estimate, se).
s <- read.csv("tests/data/elisa/multiplex_signals.csv", stringsAsFactors = FALSE)
lay <- read.csv("tests/data/elisa/multiplex_layout.csv", stringsAsFactors = FALSE)
lay$analyte[is.na(lay$analyte)] <- ""
rows <- list()
for (a in c("IL10", "IL6", "TNF")) {
  l <- lay[lay$analyte %in% c("", a), ]
  d <- merge(l, s[s$analyte == a, c("well", "signal")], by = "well")
  d$signal <- suppressWarnings(as.numeric(d$signal))
  blank <- mean(d$signal[d$kind == "blank"])
  st <- d[d$kind == "standard", ]
  st$y <- st$signal - blank
  m <- aggregate(y ~ concentration, data = st, FUN = mean)
  half <- (min(m$y) + max(m$y)) / 2
  start <- list(A = min(m$y), B = max(m$y),
                xmid = log(m$concentration[which.min(abs(m$y - half))]), scal = 1)
  fit <- nls(y ~ SSfpl(log(concentration), A, B, xmid, scal), data = st, start = start,
             control = nls.control(tol = 1e-8, maxiter = 500))
  cf <- summary(fit)$coefficients
  rows[[length(rows) + 1]] <- data.frame(analyte = a, parameter = c("r0", "rinf", "xmid", "scal"),
                                         estimate = cf[, 1], se = cf[, 2])
}
r <- do.call(rbind, rows)
r$estimate <- sprintf("%.17g", r$estimate); r$se <- sprintf("%.17g", r$se)
write.csv(r, "tests/elisa/r/reference_multiplex.csv", row.names = FALSE)
