# Reference values for nocilab.lab.within_between_model: the within-between (Mundlak)
# mixed model of a behavioural change on log10 serum human IgG, by lme4 + lmerTest.
#
# Run from the repository root:
#     Rscript tests/lab/r/exposure_response.R
#
# Data: tests/lab/r/exposure_response_data.csv (simulated; make_exposure_data.py).
# within  = log10_igg minus the animal's mean log10_igg over its rows,
# between = that mean (recomputed here from log10_igg).
# Cases:
#   nested: change ~ within + between + (1 | donor) + (1 | animal)   (animals in donors)
#   animal: change ~ within + between + (1 | animal)
# REML, Satterthwaite df (lmerTest summary), tight bobyqa tolerance.
#
# Writes tests/lab/r/reference_exposure_response.csv (17 digits): case, term, estimate,
# se, df, t, p, then rows var_animal, var_donor, var_residual with the variance in
# estimate.

suppressPackageStartupMessages(library(lmerTest))
d <- read.csv("tests/lab/r/exposure_response_data.csv", stringsAsFactors = FALSE)
d$between <- ave(d$log10_igg, d$animal)
d$within <- d$log10_igg - d$between
ctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5))
fits <- list(
  nested = lmer(change ~ within + between + (1 | donor) + (1 | animal), data = d,
                REML = TRUE, control = ctrl),
  animal = lmer(change ~ within + between + (1 | animal), data = d, REML = TRUE,
                control = ctrl)
)
out <- do.call(rbind, lapply(names(fits), function(case) {
  m <- fits[[case]]
  co <- summary(m, ddf = "Satterthwaite")$coefficients
  terms <- c("(Intercept)" = "intercept", within = "within", between = "between")
  fe <- data.frame(case = case, term = unname(terms[rownames(co)]),
                   estimate = co[, "Estimate"], se = co[, "Std. Error"], df = co[, "df"],
                   t = co[, "t value"], p = co[, "Pr(>|t|)"], stringsAsFactors = FALSE)
  vc <- as.data.frame(VarCorr(m))
  var_of <- function(g) if (g %in% vc$grp) vc$vcov[vc$grp == g] else NA_real_
  vr <- data.frame(case = case, term = c("var_animal", "var_donor", "var_residual"),
                   estimate = c(var_of("animal"), var_of("donor"), var_of("Residual")),
                   se = NA, df = NA, t = NA, p = NA, stringsAsFactors = FALSE)
  rbind(fe, vr)
}))
for (j in seq_along(out)) if (is.numeric(out[[j]]) || all(is.na(out[[j]]))) {
  out[[j]] <- ifelse(is.na(out[[j]]), NA_character_, sprintf("%.17g", as.numeric(out[[j]])))
}
write.csv(out, "tests/lab/r/reference_exposure_response.csv", row.names = FALSE, na = "")
