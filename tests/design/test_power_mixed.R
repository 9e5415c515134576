# Reference values for tests/design/test_power_mixed.py (lme4 + lmerTest).
#
# A deterministic study (no random numbers, so Python rebuilds it exactly):
# 2 arms (control, patient) x 4 donors x 3 mice, baseline days -2, -1, post days
# 1, 2, 4, 7. Indices are 0-based: donor j (0-7, arm = j %/% 4), animal k (0-23,
# donor = k %/% 3), test day i (0-5).
#
#   y = -6 * [arm = patient] * g(day) + [day > 0] * (3 sin(1.7 j + 0.3) + 2 cos(2.3 k + 0.1))
#       + 1.5 sin(0.9 k i + 1.1 i + 0.5 k)
#   g = 0, 0, 0.5, 1, 1, 0.5^0.3          (the default Effect shape on these days)
#
# change = y - mean(y on baseline days), on post days; the model
#   change ~ arm * day + (1 | donor) + (1 | animal), arm: treatment, day: sum contrasts
# Run: Rscript tests/design/test_power_mixed.R
suppressPackageStartupMessages({library(lme4); library(lmerTest)})
days <- c(-2, -1, 1, 2, 4, 7)
g <- c(0, 0, 0.5, 1, 1, 0.5^0.3)
rows <- list()
for (k in 0:23) {
  j <- k %/% 3
  arm <- if (j %/% 4 == 1) "patient" else "control"
  i <- 0:5
  y <- -6 * (arm == "patient") * g + (days > 0) * (3 * sin(1.7 * j + 0.3) + 2 * cos(2.3 * k + 0.1)) +
    1.5 * sin(0.9 * k * i + 1.1 * i + 0.5 * k)
  base <- mean(y[days < 0])
  rows[[k + 1]] <- data.frame(animal = factor(k), donor = factor(j),
                              arm = factor(arm, levels = c("control", "patient")),
                              day = factor(days[days > 0]), change = y[days > 0] - base)
}
d <- do.call(rbind, rows)
contrasts(d$day) <- contr.sum(4)
fit <- lmer(change ~ arm * day + (1 | donor) + (1 | animal), data = d, REML = TRUE)
co <- summary(fit, ddf = "Satterthwaite")$coefficients["armpatient", ]
vc <- as.data.frame(VarCorr(fit))
cat(sprintf("estimate=%.10f\nse=%.10f\ndf=%.10f\nt=%.10f\np=%.10g\n",
            co["Estimate"], co["Std. Error"], co["df"], co["t value"], co["Pr(>|t|)"]))
cat(sprintf("var_%s=%.10f\n", vc$grp, vc$vcov), sep = "")
