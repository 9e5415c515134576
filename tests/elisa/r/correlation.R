# Reference values for nocilab.stats.donor_correlations on the simulated donor table
# tests/data/elisa/donor_correlations.csv (written by make_correlation_data.py).
#
# Run from the repository root:
#     Rscript tests/elisa/r/correlation.R
#
# For each outcome (binding_score, effect_g) x clinical field (pain_intensity, fiq_total,
# age_years): cor.test(field, outcome, method = "spearman") on the donors with both
# values (exact = NULL: AS 89 without ties, asymptotic t with ties, as R chooses), and
# the interval tanh(atanh(rho) -+ qnorm(0.975) sqrt((1 + rho^2 / 2) / (n - 3)))
# (Fisher z, Bonett-Wright SE; R has no built-in interval for Spearman's rho); p-values
# Holm-adjusted over the six pairs by p.adjust.
#
# Writes tests/elisa/r/reference_correlation.csv (17 significant digits).
d <- read.csv("tests/data/elisa/donor_correlations.csv")
rows <- list()
for (o in c("binding_score", "effect_g")) for (f in c("pain_intensity", "fiq_total", "age_years")) {
  ok <- !is.na(d[[o]]) & !is.na(d[[f]])
  ct <- suppressWarnings(cor.test(d[[f]][ok], d[[o]][ok], method = "spearman"))
  n <- sum(ok); r <- unname(ct$estimate)
  se <- sqrt((1 + r^2 / 2) / (n - 3))
  rows[[length(rows) + 1]] <- data.frame(
    outcome = o, field = f, n = n, rho = r, s_statistic = unname(ct$statistic),
    p = ct$p.value, ci_low = tanh(atanh(r) - qnorm(0.975) * se),
    ci_high = tanh(atanh(r) + qnorm(0.975) * se),
    ties = length(unique(d[[f]][ok])) < n || length(unique(d[[o]][ok])) < n)
}
r <- do.call(rbind, rows)
r$p_holm <- p.adjust(r$p, "holm")
for (j in seq_along(r)) if (is.double(r[[j]])) r[[j]] <- sprintf("%.17g", r[[j]])
write.csv(r, "tests/elisa/r/reference_correlation.csv", row.names = FALSE)
