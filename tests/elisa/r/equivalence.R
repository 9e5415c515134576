# Reference values for nocilab.stats.equivalence_panel on the simulated cytokine values in
# tests/data/elisa/cytokine_values.csv (written by make_panel_data.py).
#
# Run from the repository root:
#     Rscript tests/elisa/r/equivalence.R
#
# Per analyte, patient against control, censored values set to their bound:
#   - two-sided Welch test and 95% CI:      t.test(p, c)
#   - TOST, each one-sided Welch test:      t.test(p, c, mu = lower, alternative = "greater")
#                                           t.test(p, c, mu = upper, alternative = "less")
#   - TOST interval (1 - 2 alpha = 90%):    t.test(p, c, conf.level = 0.90)$conf.int
#   - for analytes with censored values, the censored-normal (Tobit) model
#     survreg(Surv(lo, hi, type = "interval2") ~ arm, dist = "gaussian") and z tests of
#     its arm coefficient against 0 and the margins;
#   - the p-values used (the larger of Welch and Tobit when censored) adjusted across the
#     analytes by p.adjust(, "holm") and p.adjust(, "BH").
# Two scales: log10 with the ratio margin 0.8-1.25 (bounds log10(0.8), log10(1.25)), and
# linear with the margin as a fraction of the control mean (bounds -0.2 m, +0.25 m, m the
# control mean with censored values at their bound).
#
# Writes tests/elisa/r/reference_equivalence.csv (17 significant digits).
library(survival)
d <- read.csv("tests/data/elisa/cytokine_values.csv", stringsAsFactors = FALSE)
d$value <- ifelse(d$censored == "none", d$concentration, d$bound)
rows <- list()
for (scale in c("log10", "linear")) {
  for (a in sort(unique(d$analyte))) {
    g <- d[d$analyte == a, ]
    y <- if (scale == "log10") log10(g$value) else g$value
    p <- y[g$arm == "patient"]; c <- y[g$arm == "control"]
    if (scale == "log10") { lower <- log10(0.8); upper <- log10(1.25) } else {
      lower <- (0.8 - 1) * mean(c); upper <- (1.25 - 1) * mean(c) }
    two <- t.test(p, c)
    lo <- t.test(p, c, mu = lower, alternative = "greater")
    hi <- t.test(p, c, mu = upper, alternative = "less")
    ci90 <- t.test(p, c, conf.level = 0.90)$conf.int
    tob <- c(NA, NA, NA, NA)
    if (any(g$censored != "none")) {
      left <- ifelse(g$censored == "left", NA, y)
      right <- ifelse(g$censored == "right", NA, y)
      arm <- relevel(factor(g$arm), ref = "control")
      fit <- survreg(Surv(left, right, type = "interval2") ~ arm, dist = "gaussian",
                     control = survreg.control(rel.tolerance = 1e-12, maxiter = 200))
      est <- coef(fit)[["armpatient"]]
      se <- sqrt(vcov(fit)["armpatient", "armpatient"])
      tob <- c(est, se, 2 * pnorm(-abs(est / se)),
               max(pnorm((est - lower) / se, lower.tail = FALSE), pnorm((est - upper) / se)))
    }
    rows[[length(rows) + 1]] <- data.frame(
      scale = scale, analyte = a, difference = mean(p) - mean(c), se = unname(two$stderr),
      df = unname(two$parameter), t = unname(two$statistic), p = two$p.value,
      ci_low = two$conf.int[1], ci_high = two$conf.int[2], margin_low = lower,
      margin_high = upper, t_lower = unname(lo$statistic), p_lower = lo$p.value,
      t_upper = unname(hi$statistic), p_upper = hi$p.value,
      p_tost = max(lo$p.value, hi$p.value), tost_ci_low = ci90[1], tost_ci_high = ci90[2],
      tobit_difference = tob[1], tobit_se = tob[2], tobit_p = tob[3], tobit_p_tost = tob[4])
  }
}
r <- do.call(rbind, rows)
r$p_used <- ifelse(is.na(r$tobit_p), r$p, pmax(r$p, r$tobit_p))
r$p_tost_used <- ifelse(is.na(r$tobit_p_tost), r$p_tost, pmax(r$p_tost, r$tobit_p_tost))
for (s in unique(r$scale)) {
  k <- r$scale == s
  r$p_holm[k] <- p.adjust(r$p_used[k], "holm")
  r$p_tost_holm[k] <- p.adjust(r$p_tost_used[k], "holm")
  r$p_bh[k] <- p.adjust(r$p_used[k], "BH")
  r$p_tost_bh[k] <- p.adjust(r$p_tost_used[k], "BH")
}
for (j in seq_along(r)) if (is.numeric(r[[j]])) {
  r[[j]] <- ifelse(is.na(r[[j]]), NA_character_, sprintf("%.17g", r[[j]]))
}
write.csv(r, "tests/elisa/r/reference_equivalence.csv", row.names = FALSE, na = "")
