# Reference values for nocilab.elisa.half_lives: elimination half-life of human IgG per
# mouse by lm() on the log concentrations, and per preparation by t.test() on the log
# half-lives, on tests/data/elisa/igg_serum_clearance.csv (simulated; make_data.py).
#
# Run from the repository root:
#     Rscript tests/elisa/r/clearance.R
#
# Dosing on days 0-3: only readings after day 3 are fitted; censored readings (below the
# LLOQ) are left out. Per mouse: lm(log(concentration) ~ study_day), k = -slope,
# half-life = log(2) / k, 95% interval log(2) / (k -+ qt(0.975, n - 2) se). A mouse with
# 2 readings has a half-life without interval. Per preparation: the geometric mean
# half-life exp(mean(log(hl))) with exp(t.test(log(hl))$conf.int).
#
# Writes tests/elisa/r/reference_clearance_animals.csv and _groups.csv (17 digits).

d <- read.csv("tests/data/elisa/igg_serum_clearance.csv", stringsAsFactors = FALSE)
d <- d[d$study_day > 3 & d$censored == "none", ]
fmt <- function(df) {
  for (j in seq_along(df)) if (is.numeric(df[[j]])) {
    df[[j]] <- ifelse(is.na(df[[j]]), NA_character_, sprintf("%.17g", df[[j]]))
  }
  df
}
animals <- do.call(rbind, lapply(split(d, d$animal), function(a) {
  fit <- lm(log(concentration) ~ study_day, data = a)
  k <- -coef(fit)[["study_day"]]
  n <- nrow(a)
  if (n > 2) {
    ci <- confint(fit, "study_day", level = 0.95)
    se <- summary(fit)$coefficients["study_day", "Std. Error"]
    lo <- log(2) / -ci[1]; hi <- log(2) / -ci[2]
    r2 <- summary(fit)$r.squared
  } else {
    se <- NA; lo <- NA; hi <- NA; r2 <- NA
  }
  data.frame(animal = a$animal[1], preparation = a$preparation[1], n_points = n,
             slope_per_day = -k, slope_se = se, half_life_days = log(2) / k,
             ci_low_days = lo, ci_high_days = hi, r_squared = r2)
}))
groups <- do.call(rbind, lapply(split(animals, animals$preparation), function(g) {
  tt <- t.test(log(g$half_life_days), conf.level = 0.95)
  data.frame(preparation = g$preparation[1], n_animals = nrow(g),
             geometric_mean_half_life_days = exp(mean(log(g$half_life_days))),
             ci_low_days = exp(tt$conf.int[1]), ci_high_days = exp(tt$conf.int[2]),
             df = unname(tt$parameter))
}))
write.csv(fmt(animals), "tests/elisa/r/reference_clearance_animals.csv", row.names = FALSE,
          na = "")
write.csv(fmt(groups), "tests/elisa/r/reference_clearance_groups.csv", row.names = FALSE,
          na = "")
