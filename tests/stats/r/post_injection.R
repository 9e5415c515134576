# Reference values for the per-day contrasts with baseline days left out of the family
# (nocilab.stats.contrasts, baseline_days): emmeans on the same models as
# make_reference.R, the trt.vs.ctrl contrasts restricted to the post-injection days
# (day > 0) before the adjustment, so that the family holds only those comparisons.
#
# Run from the repository root (after tests/stats/r/make_data.py):
#     Rscript tests/stats/r/post_injection.R
#
# Writes <set>__contrasts_post.csv (lmer, Satterthwaite df) and <set>__posttests_post.csv
# (the within-cells post-tests: lm(value ~ arm * day)), 17 significant digits.

suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
  library(emmeans)
})
options(contrasts = c("contr.sum", "contr.poly"))
emm_options(lmer.df = "satterthwaite", lmerTest.limit = 1e6, pbkrtest.limit = 0)
ref_dir <- "tests/stats/reference"

read_set <- function(name, control = "control") {
  d <- read.csv(file.path(ref_dir, paste0(name, ".csv")), stringsAsFactors = FALSE)
  arms <- c(control, sort(setdiff(unique(d$arm), control)))
  d$arm <- factor(d$arm, levels = arms)
  d$day <- factor(d$study_day, levels = sort(unique(d$study_day)))
  d$animal <- factor(d$animal)
  if ("donor" %in% names(d)) d$donor <- factor(d$donor)
  d
}

post_contrasts <- function(model, d) {
  post <- levels(d$day)[as.numeric(levels(d$day)) > 0]
  emm <- emmeans(model, ~ arm | day, at = list(day = post))
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
  out$n_family_all <- nrow(out)
  out
}

wcsv <- function(df, name) {
  for (j in seq_along(df)) if (is.numeric(df[[j]])) df[[j]] <- sprintf("%.17g", df[[j]])
  write.csv(df, file.path(ref_dir, name), row.names = FALSE, quote = TRUE)
}

for (name in c("balanced", "unbalanced", "three_arms")) {
  d <- read_set(name)
  m <- lmer(value ~ arm * day + (1 | donor) + (1 | animal), data = d, REML = TRUE,
            control = lmerControl(optimizer = "bobyqa",
                                  optCtrl = list(rhoend = 1e-12, maxfun = 1e5)))
  wcsv(post_contrasts(m, d), paste0(name, "__contrasts_post.csv"))
}
for (name in c("balanced", "no_donor", "three_arms")) {
  d <- read_set(name)
  wcsv(post_contrasts(lm(value ~ arm * day, data = d), d), paste0(name, "__posttests_post.csv"))
}
cat("post-injection reference values written to", ref_dir, "\n")
