# Reference values for the log10-scale analysis of nocilab.stats (analyze_outcome with
# scale="log10"), computed with lme4 + lmerTest + emmeans on the data set written by
# tests/stats/r/make_log_data.py. Censored thresholds enter at their bound (the value
# column holds the bound), i.e. at log10(bound).
#
# Run from the repository root:
#     .venv/bin/python tests/stats/r/make_log_data.py
#     Rscript tests/stats/r/log_scale.R
#
# Model: log10(value) ~ arm * day + (1 | donor) + (1 | animal), REML, Satterthwaite df;
# per-day contrasts of patient against control on the log10 scale and, back-transformed
# by emmeans (type = "response"), as ratios of geometric means with 95% limits.
# Donor-level test: per animal, mean log10 value on days 1-7 minus the mean on the
# baseline days -3 and -1; per donor, the mean; lm(change ~ arm) on the donor means.

suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
  library(emmeans)
})
options(contrasts = c("contr.sum", "contr.poly"))
emm_options(lmer.df = "satterthwaite", lmerTest.limit = 1e6, pbkrtest.limit = 0)

ref_dir <- "tests/stats/reference"
wcsv <- function(df, name) {
  for (j in seq_along(df)) {
    if (is.numeric(df[[j]])) df[[j]] <- sprintf("%.17g", df[[j]])
  }
  write.csv(df, file.path(ref_dir, name), row.names = FALSE, quote = TRUE)
}

d <- read.csv(file.path(ref_dir, "vonfrey_log.csv"), stringsAsFactors = FALSE)
d$arm <- factor(d$arm, levels = c("control", "patient"))
d$day <- factor(d$study_day, levels = sort(unique(d$study_day)))
d$animal <- factor(d$animal)
d$donor <- factor(d$donor)

m <- lmer(log10(value) ~ arm * day + (1 | donor) + (1 | animal), data = d, REML = TRUE,
          control = lmerControl(optimizer = "bobyqa",
                                optCtrl = list(rhoend = 1e-12, maxfun = 1e5)))
vc <- as.data.frame(VarCorr(m))
vc <- data.frame(component = ifelse(vc$grp == "Residual", "residual", vc$grp),
                 variance = vc$vcov)
wcsv(rbind(vc, data.frame(component = "reml_criterion", variance = REMLcrit(m))),
     "vonfrey_log__log10_varcomp.csv")
a <- anova(m, type = 3, ddf = "Satterthwaite")
wcsv(data.frame(term = rownames(a), f = a[["F value"]], num_df = a[["NumDF"]],
                den_df = a[["DenDF"]], p = a[["Pr(>F)"]]), "vonfrey_log__log10_anova.csv")

emm <- emmeans(m, ~ arm | day)          # emmeans sees the log10 transformation
con <- contrast(emm, "trt.vs.ctrl", ref = 1)
link <- as.data.frame(summary(con, adjust = "none", infer = TRUE))
resp <- as.data.frame(summary(con, adjust = "none", infer = TRUE, type = "response"))
wcsv(data.frame(day = as.numeric(as.character(link$day)), estimate = link$estimate,
                se = link$SE, df = link$df, t = link$t.ratio, p = link$p.value,
                ratio = resp$ratio,
                ratio_ci_low = resp$lower.CL, ratio_ci_high = resp$upper.CL),
     "vonfrey_log__log10_contrasts.csv")

d$log_value <- log10(d$value)
base <- aggregate(log_value ~ animal, data = d[d$study_day < 0, ], FUN = mean)
post <- aggregate(log_value ~ animal + donor + arm,
                  data = d[d$study_day >= 1 & d$study_day <= 7, ], FUN = mean)
x <- merge(post, base, by = "animal", suffixes = c("", "_base"))
x$change <- x$log_value - x$log_value_base
u <- aggregate(change ~ donor + arm, data = x, FUN = mean)
u$arm <- relevel(factor(as.character(u$arm)), ref = "control")
options(contrasts = c("contr.treatment", "contr.poly"))
fit <- lm(change ~ arm, data = u)
co <- summary(fit)$coefficients
ci <- confint(fit)
wcsv(data.frame(difference = co["armpatient", 1], se = co["armpatient", 2],
                t = co["armpatient", 3], p = co["armpatient", 4], df = fit$df.residual,
                ci_low = ci["armpatient", 1], ci_high = ci["armpatient", 2],
                ratio = 10^co["armpatient", 1], ratio_ci_low = 10^ci["armpatient", 1],
                ratio_ci_high = 10^ci["armpatient", 2]),
     "vonfrey_log__log10_donor_test.csv")
