# Reference values for nocilab.stats.response_model: the response-course model fitted by
# REML with nlme on the data sets written by tests/stats/r/make_response_data.py.
#
# Run from the repository root:
#     .venv/bin/python tests/stats/r/make_response_data.py
#     Rscript tests/stats/r/response_model.R
#
# value ~ 0 + cell (one mean per arm x day), an animal level on every day, donor and
# animal responses after injection (post = day > 0), AR(1) residuals over the rank of
# the test day within the animal.

suppressPackageStartupMessages(library(nlme))

ref_dir <- "tests/stats/reference"

fit_one <- function(name) {
  d <- read.csv(file.path(ref_dir, paste0(name, ".csv")))
  days <- sort(unique(d$study_day))
  d$idx <- match(d$study_day, days)
  d$post <- as.numeric(d$study_day > 0)
  d$cell <- factor(paste(d$arm, d$study_day))
  d$donor <- factor(d$donor)
  d$animal <- factor(d$animal)
  fit <- lme(value ~ 0 + cell,
             random = list(donor = pdIdent(~ 0 + post), animal = pdDiag(~ 1 + post)),
             correlation = corAR1(form = ~ idx | donor / animal),
             data = d, method = "REML",
             control = lmeControl(maxIter = 500, msMaxIter = 500, niterEM = 100,
                                  msTol = 1e-12, tolerance = 1e-10))
  vc <- VarCorr(fit)
  sds <- suppressWarnings(as.numeric(vc[, "StdDev"]))
  # rows of VarCorr: donor =, post, animal =, (Intercept), post, Residual
  labels <- rownames(vc)
  donor_sd <- sds[2]
  level_sd <- sds[4]
  animal_sd <- sds[5]
  resid_sd <- fit$sigma
  rho <- as.numeric(coef(fit$modelStruct$corStruct, unconstrained = FALSE))
  out <- data.frame(
    parameter = c("sd_level", "sd_donor", "sd_animal", "sd_residual", "rho", "loglik"),
    value = c(level_sd, donor_sd, animal_sd, resid_sd, rho, as.numeric(logLik(fit))))
  out$value <- sprintf("%.17g", out$value)
  write.csv(out, file.path(ref_dir, paste0(name, "__nlme.csv")), row.names = FALSE)
  cat(name, "\n"); print(vc); cat("rho", rho, "logLik", logLik(fit), "\n")
}

for (name in c("response_balanced", "response_missing")) fit_one(name)
