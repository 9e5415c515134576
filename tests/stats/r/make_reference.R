# Reference values for nocilab.stats, computed with lme4 + lmerTest + emmeans + afex
# (+ survival, mvtnorm) on the data sets written by tests/stats/r/make_data.py.
#
# Run from the repository root:
#     .venv/bin/python tests/stats/r/make_data.py
#     Rscript tests/stats/r/make_reference.R
#
# Every number is written with 17 significant digits. Factor levels are set explicitly
# (control arm first, then the other arms in sorted order; days in numeric order) so
# that the coefficients line up with nocilab's sum-to-zero coding.

suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
  library(emmeans)
  library(afex)
  library(survival)
  library(mvtnorm)
})
options(contrasts = c("contr.sum", "contr.poly"))
emm_options(lmer.df = "satterthwaite", lmerTest.limit = 1e6, pbkrtest.limit = 0)

ref_dir <- "tests/stats/reference"

fmt <- function(df) {
  for (j in seq_along(df)) {
    if (is.numeric(df[[j]])) df[[j]] <- sprintf("%.17g", df[[j]])
  }
  df
}
wcsv <- function(df, name) {
  write.csv(fmt(df), file.path(ref_dir, name), row.names = FALSE, quote = TRUE)
}

read_set <- function(name, control = "control") {
  d <- read.csv(file.path(ref_dir, paste0(name, ".csv")), stringsAsFactors = FALSE)
  arms <- c(control, sort(setdiff(unique(d$arm), control)))
  d$arm <- factor(d$arm, levels = arms)
  d$day <- factor(d$study_day, levels = sort(unique(d$study_day)))
  d$animal <- factor(d$animal)
  if ("donor" %in% names(d)) d$donor <- factor(d$donor)
  d
}

# Dunnett-adjusted p: 1 - P(max_j |T_j| < |t|), T multivariate t with correlation
# `corr` and (real-valued) df, by integrating the multivariate normal probability
# (Miwa's deterministic algorithm) over the chi distribution of the scale.
dunnett_p <- function(t, df, corr) {
  k <- nrow(corr)
  a <- abs(t)
  if (k == 1) return(2 * pt(a, df, lower.tail = FALSE))
  inner <- function(s) {
    vapply(s, function(si) {
      pmvnorm(lower = rep(-a * si, k), upper = rep(a * si, k), corr = corr,
              algorithm = Miwa(steps = 4096))[1]
    }, numeric(1))
  }
  if (!is.finite(df)) return(1 - inner(1))
  dens <- function(s) 2 * df * s * dchisq(df * s^2, df)
  1 - integrate(function(s) inner(s) * dens(s), 0, Inf, rel.tol = 1e-11,
                subdivisions = 1000L)$value
}

mixed_reference <- function(name, d, formula, tag = name) {
  m <- lmer(formula, data = d, REML = TRUE,
            control = lmerControl(optimizer = "bobyqa",
                                  optCtrl = list(rhoend = 1e-12, maxfun = 1e5)))
  cf <- summary(m)$coefficients
  wcsv(data.frame(term = rownames(cf), estimate = cf[, "Estimate"],
                  se = cf[, "Std. Error"], df = cf[, "df"], t = cf[, "t value"],
                  p = cf[, "Pr(>|t|)"]), paste0(tag, "__fixef.csv"))
  vc <- as.data.frame(VarCorr(m))
  vc <- data.frame(component = ifelse(vc$grp == "Residual", "residual", vc$grp),
                   variance = vc$vcov)
  vc <- rbind(vc, data.frame(component = "reml_criterion", variance = REMLcrit(m)))
  wcsv(vc, paste0(tag, "__varcomp.csv"))
  a <- anova(m, type = 3, ddf = "Satterthwaite")
  wcsv(data.frame(term = rownames(a), sum_sq = a[["Sum Sq"]], mean_sq = a[["Mean Sq"]],
                  num_df = a[["NumDF"]], den_df = a[["DenDF"]], f = a[["F value"]],
                  p = a[["Pr(>F)"]]), paste0(tag, "__anova.csv"))
  emm <- emmeans(m, ~ arm | day, lmer.df = "satterthwaite")
  con <- contrast(emm, "trt.vs.ctrl", ref = 1)
  s <- as.data.frame(summary(con, adjust = "none"))
  out <- data.frame(day = as.numeric(as.character(s$day)), contrast = s$contrast,
                    estimate = s$estimate, se = s$SE, df = s$df, t = s$t.ratio,
                    p = s$p.value)
  out$p_holm_day <- as.data.frame(summary(con, adjust = "holm"))$p.value
  out$p_sidak_day <- as.data.frame(summary(con, adjust = "sidak"))$p.value
  for (adj in c("sidak", "bonferroni", "holm")) {
    out[[paste0("p_", adj, "_all")]] <-
      as.data.frame(summary(con, by = NULL, adjust = adj))$p.value
  }
  # Dunnett (multivariate t) over the comparisons of one day
  V <- vcov(con)
  R <- cov2cor(V)
  out$p_dunnett_day <- NA_real_
  for (i in seq_len(nrow(out))) {
    same <- which(out$day == out$day[i])
    out$p_dunnett_day[i] <- dunnett_p(out$t[i], out$df[i], R[same, same, drop = FALSE])
  }
  wcsv(out, paste0(tag, "__contrasts.csv"))
  invisible(m)
}

afex_reference <- function(name, d, tag = name) {
  a <- aov_ez(id = "animal", dv = "value", data = d, between = "arm", within = "day",
              type = 3, anova_table = list(correction = "GG", es = "none"))
  s <- summary(a$Anova, multivariate = FALSE)
  u <- s$univariate.tests
  u <- data.frame(effect = rownames(u), sum_sq = u[, "Sum Sq"], num_df = u[, "num Df"],
                  error_sum_sq = u[, "Error SS"], den_df = u[, "den Df"],
                  f = u[, "F value"], p = u[, "Pr(>F)"])
  u$gg_epsilon <- NA_real_
  u$p_gg <- NA_real_
  adj <- s$pval.adjustments
  for (e in rownames(adj)) {
    u$gg_epsilon[u$effect == e] <- adj[e, "GG eps"]
    u$p_gg[u$effect == e] <- adj[e, "Pr(>F[GG])"]
  }
  nice <- as.data.frame(a$anova_table)
  u$p_gg_afex <- NA_real_
  u$p_gg_afex[match(rownames(nice), u$effect)] <- nice[["Pr(>F)"]]
  wcsv(u, paste0(tag, "__afex.csv"))
  # Prism's post-tests comparing arms at each day use the within-cells mean square,
  # which is the residual mean square of the ordinary two-way ANOVA of the same data.
  fit <- lm(value ~ arm * day, data = d)
  emm <- emmeans(fit, ~ arm | day)
  con <- contrast(emm, "trt.vs.ctrl", ref = 1)
  s <- as.data.frame(summary(con, adjust = "none"))
  out <- data.frame(day = as.numeric(as.character(s$day)), contrast = s$contrast,
                    estimate = s$estimate, se = s$SE, df = s$df, t = s$t.ratio,
                    p = s$p.value)
  for (adj in c("sidak", "bonferroni", "holm")) {
    out[[paste0("p_", adj, "_all")]] <-
      as.data.frame(summary(con, by = NULL, adjust = adj))$p.value
  }
  out$p_holm_day <- as.data.frame(summary(con, adjust = "holm"))$p.value
  R <- cov2cor(vcov(con))
  out$p_dunnett_day <- NA_real_
  for (i in seq_len(nrow(out))) {
    same <- which(out$day == out$day[i])
    out$p_dunnett_day[i] <- dunnett_p(out$t[i], out$df[i], R[same, same, drop = FALSE])
  }
  wcsv(out, paste0(tag, "__posttests.csv"))
}

nested <- value ~ arm * day + (1 | donor) + (1 | animal)
animal_only <- value ~ arm * day + (1 | animal)

for (name in c("balanced", "unbalanced", "three_arms", "singular", "censored")) {
  mixed_reference(name, read_set(name), nested)
}
mixed_reference("no_donor", read_set("no_donor"), animal_only)
mixed_reference("one_per_donor", read_set("one_per_donor"), animal_only)

for (name in c("balanced", "no_donor", "three_arms")) {
  afex_reference(name, read_set(name))
}

# Baseline handling on the balanced set: day -1 is the baseline.
d <- read_set("balanced")
base <- tapply(d$value[d$study_day < 0], as.character(d$animal[d$study_day < 0]), mean)
post <- droplevels(d[d$study_day > 0, ])
post$baseline <- unname(base[as.character(post$animal)])
mixed_reference("balanced", post, value ~ arm * day + baseline + (1 | donor) + (1 | animal),
                tag = "balanced_covariate")
chg <- post
chg$value <- chg$value - chg$baseline
mixed_reference("balanced", chg, nested, tag = "balanced_change")
pct <- post
pct$value <- 100 * pct$value / pct$baseline
mixed_reference("balanced", pct, nested, tag = "balanced_percent")

# Censoring sensitivity: (b) without the censored values
d <- read_set("censored")
mixed_reference("censored", droplevels(d[d$censored == "none", ]), nested,
                tag = "censored_dropped")

# Tobit (censored normal) per day: value ~ arm, right-censored at the bound
options(contrasts = c("contr.treatment", "contr.poly"))
rows <- list()
for (day in sort(unique(d$study_day))) {
  dd <- d[d$study_day == day, ]
  dd$arm <- relevel(factor(as.character(dd$arm)), ref = "control")
  fit <- survreg(Surv(value, censored == "none", type = "right") ~ arm, data = dd,
                 dist = "gaussian",
                 control = survreg.control(rel.tolerance = 1e-12, maxiter = 200))
  cf <- summary(fit)$table
  rows[[length(rows) + 1]] <- data.frame(
    day = day, contrast = "patient - control",
    estimate = cf["armpatient", "Value"], se = cf["armpatient", "Std. Error"],
    z = cf["armpatient", "z"], p = cf["armpatient", "p"],
    intercept = cf["(Intercept)", "Value"], scale = fit$scale,
    loglik = fit$loglik[2], n_censored = sum(dd$censored != "none"))
}
wcsv(do.call(rbind, rows), "censored__tobit.csv")

# Per-donor effects on the change-from-baseline AUC (baseline day -1, window day 1 to the
# last day). Patient donors against all control animals (Welch t); control donors
# against the animals of the other control donors; a donor with one animal by the
# prediction t against the reference animals.
auc_table <- function(d, base_days = -1, from = 1) {
  last <- max(d$study_day)
  animals <- sort(unique(as.character(d$animal)))
  out <- lapply(animals, function(a) {
    x <- d[d$animal == a, ]
    x <- x[order(x$study_day), ]
    b <- mean(x$value[x$study_day %in% base_days])
    w <- x[x$study_day >= from, ]
    y <- w$value - b
    ok <- length(y) > 1 && !is.na(b) && min(w$study_day) == from && max(w$study_day) == last
    data.frame(animal = a, arm = as.character(x$arm[1]), donor = as.character(x$donor[1]),
               auc = if (ok) sum(diff(w$study_day) * (head(y, -1) + tail(y, -1)) / 2) else NA)
  })
  do.call(rbind, out)
}
donor_reference <- function(name) {
  au <- auc_table(read_set(name))
  wcsv(au, paste0(name, "__auc.csv"))
  au <- au[!is.na(au$auc), ]
  ctrl <- au[au$arm == "control", ]
  rows <- list()
  for (dn in sort(unique(au$donor))) {
    x <- au$auc[au$donor == dn]
    arm <- au$arm[au$donor == dn][1]
    ref <- if (arm == "control") ctrl$auc[ctrl$donor != dn] else ctrl$auc
    if (length(x) >= 2) {
      tt <- t.test(x, ref, var.equal = FALSE)
      est <- unname(tt$estimate[1] - tt$estimate[2])
      lo <- tt$conf.int[1]; hi <- tt$conf.int[2]
      df <- unname(tt$parameter); t <- unname(tt$statistic); p <- tt$p.value
    } else {
      se <- sd(ref) * sqrt(1 + 1 / length(ref))
      est <- x - mean(ref); df <- length(ref) - 1; t <- est / se
      q <- qt(0.975, df); lo <- est - q * se; hi <- est + q * se
      p <- 2 * pt(abs(t), df, lower.tail = FALSE)
    }
    rows[[length(rows) + 1]] <- data.frame(donor = dn, arm = arm, n_animals = length(x),
      estimate = est, ci_low = lo, ci_high = hi, df = df, t = t, p = p)
  }
  wcsv(do.call(rbind, rows), paste0(name, "__donors.csv"))
}
for (name in c("balanced", "unbalanced", "one_per_donor")) donor_reference(name)

# Hedges' g per day (pooled between-animal SD that day), exact J, noncentral-t CI
es_reference <- function(name) {
  d <- read_set(name)
  rows <- list()
  for (day in sort(unique(d$study_day))) {
    for (a in setdiff(levels(d$arm), "control")) {
      x1 <- d$value[d$study_day == day & d$arm == a]
      x0 <- d$value[d$study_day == day & d$arm == "control"]
      n1 <- length(x1); n0 <- length(x0); m <- n1 + n0 - 2
      sp <- sqrt(((n1 - 1) * var(x1) + (n0 - 1) * var(x0)) / m)
      dd <- (mean(x1) - mean(x0)) / sp
      J <- exp(lgamma(m / 2) - lgamma((m - 1) / 2)) / sqrt(m / 2)
      k <- sqrt(1 / n1 + 1 / n0)
      tobs <- dd / k
      f <- function(target) uniroot(function(ncp) pt(tobs, m, ncp) - target,
                                    c(tobs - 20, tobs + 20), tol = 1e-13)$root
      rows[[length(rows) + 1]] <- data.frame(day = day, arm = a, n_arm = n1, n_control = n0,
        mean_difference = mean(x1) - mean(x0), pooled_sd = sp, hedges_g = J * dd,
        ci_low = J * f(0.975) * k, ci_high = J * f(0.025) * k)
    }
  }
  wcsv(do.call(rbind, rows), paste0(name, "__effect_sizes.csv"))
}
for (name in c("balanced", "three_arms")) es_reference(name)

# Holm / Sidak / Bonferroni across a family of outcomes
p <- c(0.001, 0.04, 0.03, 0.2, 0.0125)
wcsv(data.frame(p = p, holm = p.adjust(p, "holm"), bonferroni = p.adjust(p, "bonferroni"),
                sidak = 1 - (1 - p)^length(p)), "padjust.csv")

cat("reference values written to", ref_dir, "\n")
