# simr-style power loop in R: simulate a passive-transfer design, refit the mixed model
# to every simulated study with lme4 + lmerTest, count p < alpha.
#
# Called by benchmarks/bench_power.py, which passes the design as key=value arguments:
#   Rscript benchmarks/power_lme4.R n_sims=300 seed=1 donors=8 mice=3 \
#     days=-3,-1,1,2,3,5,7,10 effect=0,0,-12.5,-25,-25,...  (one value per test day)
#     window=0,0,1,1,1,1,1,1 sd_donor=10 sd_animal=8 sd_residual=12 rho=0.4 alpha=0.05
#
# The simulation is the one of nocilab.design.power (2 arms, control first):
#   y = effect(arm, day) + [day > 0] * (u_donor + v_animal) + e,  e AR(1) over test days
# and the analysis the donor-level test of the window contrast:
#   change = y - mean(y on baseline days), on the window days
#   lmer(change ~ arm * day + (1 | donor) + (1 | animal)), day with sum contrasts,
#   two-sided Satterthwaite t test of the arm coefficient (lmerTest).
# Prints key=value lines: n_sims, n_rejected, n_failed, n_singular, df_first, elapsed_s.
suppressPackageStartupMessages({library(lme4); library(lmerTest)})

args <- commandArgs(trailingOnly = TRUE)
kv <- setNames(sub("^[^=]*=", "", args), sub("=.*$", "", args))
num <- function(key) as.numeric(strsplit(kv[[key]], ",")[[1]])
n_sims <- num("n_sims"); seed <- num("seed")
donors <- num("donors"); mice <- num("mice")
days <- num("days"); effect <- num("effect"); window <- num("window") == 1
sd_donor <- num("sd_donor"); sd_animal <- num("sd_animal")
sd_residual <- num("sd_residual"); rho <- num("rho"); alpha <- num("alpha")

set.seed(seed)
n_t <- length(days)
base <- days <= 0
n_donors <- 2 * donors
n_animals <- n_donors * mice
donor_of <- rep(seq_len(n_donors), each = mice)
arm_of <- ifelse(donor_of > donors, "patient", "control")
post <- as.numeric(days > 0)
win_days <- days[window]

skeleton <- data.frame(
  animal = factor(rep(seq_len(n_animals), each = length(win_days))),
  donor = factor(rep(donor_of, each = length(win_days))),
  arm = factor(rep(arm_of, each = length(win_days)), levels = c("control", "patient")),
  day = factor(rep(win_days, times = n_animals))
)
contrasts(skeleton$day) <- contr.sum(length(win_days))

simulate_change <- function() {
  u <- rnorm(n_donors, 0, sd_donor)[donor_of]
  v <- rnorm(n_animals, 0, sd_animal)
  e <- matrix(0, n_animals, n_t)
  e[, 1] <- rnorm(n_animals, 0, sd_residual)
  for (i in seq_len(n_t)[-1]) {
    e[, i] <- rho * e[, i - 1] + sqrt(1 - rho^2) * rnorm(n_animals, 0, sd_residual)
  }
  eff <- outer(arm_of == "patient", effect) * 1
  y <- eff + outer(u + v, post) + e
  ch <- y[, window, drop = FALSE] - rowMeans(y[, base, drop = FALSE])
  as.vector(t(ch))
}

n_rej <- 0; n_fail <- 0; n_sing <- 0; df_first <- NA
t0 <- proc.time()[["elapsed"]]
for (s in seq_len(n_sims)) {
  d <- skeleton
  d$change <- simulate_change()
  res <- tryCatch({
    fit <- suppressMessages(suppressWarnings(
      lmer(change ~ arm * day + (1 | donor) + (1 | animal), data = d, REML = TRUE)))
    co <- summary(fit, ddf = "Satterthwaite")$coefficients["armpatient", ]
    list(p = co[["Pr(>|t|)"]], df = co[["df"]], singular = isSingular(fit))
  }, error = function(e) NULL)
  if (is.null(res) || !is.finite(res$p)) { n_fail <- n_fail + 1; next }
  if (is.na(df_first)) df_first <- res$df
  n_sing <- n_sing + res$singular
  n_rej <- n_rej + (res$p < alpha)
}
elapsed <- proc.time()[["elapsed"]] - t0
cat(sprintf("n_sims=%d\nn_rejected=%d\nn_failed=%d\nn_singular=%d\ndf_first=%.6f\nelapsed_s=%.4f\n",
            n_sims, n_rej, n_fail, n_sing, df_first, elapsed))
cat(sprintf("lme4=%s\nlmerTest=%s\n", packageVersion("lme4"), packageVersion("lmerTest")))
