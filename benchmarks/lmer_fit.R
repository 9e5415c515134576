# Time the lmer fit of the donor-aware mixed model on one data set.
#
# Called by benchmarks/bench_mixed_model.py:
#   Rscript benchmarks/lmer_fit.R data.csv repeats
# The CSV has columns animal, donor, arm, study_day, value (control arm "control").
# Prints key=value lines, seconds per fit (median over `repeats`, each by system.time):
#   lme4_s       lme4::lmer(value ~ arm * day + (1 | donor) + (1 | animal), REML)
#   lmertest_s   lmerTest::lmer (the same fit plus the Satterthwaite Hessian/Jacobian)
#   full_s       lmerTest::lmer + anova(type = 3) + emmeans trt.vs.ctrl per day
# and the fixed effects of the last fit (fixef_<i>=...) for a check of agreement.
suppressPackageStartupMessages({library(lme4); library(lmerTest); library(emmeans)})
options(contrasts = c("contr.sum", "contr.poly"))
emm_options(lmerTest.limit = 1e6, pbkrtest.limit = 0)

args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
repeats <- as.integer(args[2])
d$arm <- factor(d$arm, levels = c("control", sort(setdiff(unique(d$arm), "control"))))
d$day <- factor(d$study_day, levels = sort(unique(d$study_day)))
d$animal <- factor(d$animal)
d$donor <- factor(d$donor)
f <- value ~ arm * day + (1 | donor) + (1 | animal)

med <- function(expr_fun) {
  times <- vapply(seq_len(repeats), function(i) system.time(expr_fun())[["elapsed"]],
                  numeric(1))
  median(times)
}
t_lme4 <- med(function() lme4::lmer(f, data = d, REML = TRUE))
t_lmertest <- med(function() lmerTest::lmer(f, data = d, REML = TRUE))
t_full <- med(function() {
  m <- lmerTest::lmer(f, data = d, REML = TRUE)
  a <- anova(m, type = 3)
  s <- summary(contrast(emmeans(m, ~ arm | day, lmer.df = "satterthwaite"), "trt.vs.ctrl"))
})
m <- lmerTest::lmer(f, data = d, REML = TRUE)
cat(sprintf("lme4_s=%.6f\nlmertest_s=%.6f\nfull_s=%.6f\n", t_lme4, t_lmertest, t_full))
cat(sprintf("fixef_%d=%.17g\n", seq_along(fixef(m)), fixef(m)), sep = "")
