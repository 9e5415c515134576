# Reference values for nocilab.stats.donors: each donor against the control donors'
# prediction interval, on the data sets of make_data.py.
#
# Run from the repository root (after tests/stats/r/make_data.py):
#     Rscript tests/stats/r/donor_classes.R
#
# Quantity: each animal's mean change from its baseline (day -1) over the days > 0,
# averaged per donor (as donor_test.R). Reference: the control donors (for a control
# donor, the other control donors). Balanced donors: predict.lm on the intercept-only
# model gives the prediction interval; its lower limit at level 1 - 2 * (1 - L) is the
# one-sided L bound. A donor with fewer mice than the reference donors' harmonic mean
# gets the extra variance s_w^2 (1/n - mean(1/n_j)) with s_w^2 the residual mean square
# of lm(change ~ donor) on the reference animals, and Satterthwaite df.
# Direction: decrease; levels 0.95 (clearly) and 0.80 (possibly).

ref_dir <- "tests/stats/reference"
level <- 0.95
possible <- 0.80

animal_changes <- function(d) {
  base <- aggregate(value ~ animal, data = d[d$study_day < 0, ], FUN = mean)
  post <- aggregate(value ~ animal + donor + arm, data = d[d$study_day > 0, ], FUN = mean)
  a <- merge(post, base, by = "animal", suffixes = c("", "_base"))
  a$change <- a$value - a$value_base
  a
}

one <- function(name) {
  d <- read.csv(file.path(ref_dir, paste0(name, ".csv")), stringsAsFactors = FALSE)
  a <- animal_changes(d)
  u <- aggregate(change ~ donor + arm, data = a, FUN = mean)
  u$n <- aggregate(change ~ donor + arm, data = a, FUN = length)$change
  rows <- list()
  for (i in seq_len(nrow(u))) {
    dn <- u$donor[i]
    refs <- u[u$arm == "control" & u$donor != dn, ]
    k <- nrow(refs)
    s2 <- var(refs$change)
    A <- s2 * (1 + 1 / k)
    extra <- 1 / u$n[i] - mean(1 / refs$n)
    if (extra > 1e-12) {
      ra <- a[a$donor %in% refs$donor, ]
      ra$donor <- factor(ra$donor)
      sw2 <- anova(lm(change ~ donor, data = ra))["Residuals", "Mean Sq"]
      dfw <- anova(lm(change ~ donor, data = ra))["Residuals", "Df"]
      B <- sw2 * extra
      se <- sqrt(A + B)
      df <- (A + B)^2 / (A^2 / (k - 1) + B^2 / dfw)
    } else {
      se <- sqrt(A)
      df <- k - 1
    }
    m <- mean(refs$change)
    t <- (u$change[i] - m) / se
    p <- pt(t, df)
    # balanced: the same bounds from predict.lm on the intercept-only model
    pi95 <- predict(lm(change ~ 1, data = refs), newdata = data.frame(x = 1),
                    interval = "prediction", level = 1 - 2 * (1 - level))
    cls <- if (p < 1 - level) "clearly affected" else if (p < 1 - possible)
      "possibly affected" else "not affected"
    rows[[length(rows) + 1]] <- data.frame(
      donor = dn, arm = u$arm[i], n_animals = u$n[i], value = u$change[i],
      reference_mean = m, difference = u$change[i] - m, se = se, df = df, t = t, p = p,
      clearly_below = m - qt(level, df) * se, possibly_below = m - qt(possible, df) * se,
      predict_lm_lwr = pi95[1, "lwr"], classification = cls)
  }
  out <- do.call(rbind, rows)
  out <- out[order(out$arm != "control", out$donor), ]
  for (j in seq_along(out)) if (is.numeric(out[[j]])) out[[j]] <- sprintf("%.17g", out[[j]])
  write.csv(out, file.path(ref_dir, paste0(name, "__donor_classes.csv")), row.names = FALSE)
}

for (name in c("balanced", "unbalanced", "three_arms", "one_per_donor")) one(name)
cat("donor classes written to", ref_dir, "\n")
