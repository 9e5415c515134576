# Reference values for nocilab.elisa, computed with base R's nls() on the simulated
# human-IgG plate in tests/data/elisa/igg_plate_wells.csv (written by make_data.py).
#
# Run from the repository root:
#     Rscript tests/elisa/r/make_reference.R
#
# For each curve (4PL, 5PL) and weighting (none, 1/y, 1/y^2):
#   - blank subtraction: the mean OD of the blank wells is subtracted from every well;
#   - 4PL: nls(y ~ SSfpl(log(concentration), A, B, xmid, scal)) on the standard wells;
#     5PL: nls(y ~ A + (B - A) / (1 + exp((xmid - log(concentration)) / scal))^g) with
#     the analytic gradient (deriv()), started from the 4PL solution with g = 1;
#     nls.control(tol = 1e-7): the parameters are then within ~1e-7 relative of the
#     least-squares optimum (tighter tolerances fail on rounding, as nls does when the
#     residual sum of squares cannot fall any further);
#   - weights = 1 / y or 1 / y^2 (y: the blank-subtracted OD of the standard well);
#   - standards and samples are read back from the mean blank-subtracted OD of their
#     replicate wells, by uniroot() on predict() in the log concentration (no closed
#     form), samples multiplied by their dilution;
#   - recovery = read-back / nominal x 100; LLOQ and ULOQ = lowest and highest standards
#     with recovery within 80-120%; a sample whose read-back concentration is below the
#     LLOQ (or whose OD lies beyond the curve's asymptote on that side) is left-censored
#     with bound LLOQ x dilution, above the ULOQ right-censored with ULOQ x dilution.
#
# SSfpl's own starting-value routine fails on this plate ("step factor reduced below
# minFactor"), so the 4PL is started from A = lowest mean OD, B = highest mean OD,
# xmid = log of the standard nearest the half-way OD, scal = 1.
#
# Every number is written with 17 significant digits into tests/elisa/r/:
#   reference_parameters.csv  model, weights, parameter, estimate, se
#   reference_fit.csv         model, weights, blank_od, n, df, sigma, rss, r_squared
#   reference_standards.csv   model, weights, concentration, od_mean, back_calculated,
#                             recovery_percent
#   reference_samples.csv     model, weights, sample, dilution, od_mean,
#                             extrapolated (read-back x dilution, NA beyond an asymptote),
#                             concentration (NA when censored), censored, bound

out_dir <- "tests/elisa/r"
d <- read.csv("tests/data/elisa/igg_plate_wells.csv", stringsAsFactors = FALSE)
blank_od <- mean(d$od[d$kind == "blank"])
d$y <- d$od - blank_od
std <- d[d$kind == "standard", ]
std$lx <- log(std$concentration)
smp <- d[d$kind == "sample", ]

ctl <- nls.control(tol = 1e-7, maxiter = 500)
fmt <- function(df) {
  for (j in seq_along(df)) if (is.numeric(df[[j]])) {
    df[[j]] <- ifelse(is.na(df[[j]]), NA_character_, sprintf("%.17g", df[[j]]))
  }
  df
}

fpl5 <- deriv(~ A + (B - A) / (1 + exp((xmid - lx) / scal))^g,
              c("A", "B", "xmid", "scal", "g"), function(lx, A, B, xmid, scal, g) {})

means_std <- aggregate(y ~ concentration, data = std, FUN = mean)
half <- (min(means_std$y) + max(means_std$y)) / 2
start4 <- list(A = min(means_std$y), B = max(means_std$y),
               xmid = log(means_std$concentration[which.min(abs(means_std$y - half))]),
               scal = 1)

fit_one <- function(model, weights) {
  w <- switch(weights, "none" = rep(1, nrow(std)), "1/y" = 1 / std$y, "1/y^2" = 1 / std$y^2)
  std$w <- w
  f4 <- nls(y ~ SSfpl(lx, A, B, xmid, scal), data = std, start = start4, weights = w,
            control = ctl)
  if (model == "4pl") return(f4)
  nls(y ~ fpl5(lx, A, B, xmid, scal, g), data = std, weights = w,
      start = c(as.list(coef(f4)), g = 1), control = ctl)
}

# response at log concentration v, and the concentration of response y (uniroot)
curve_at <- function(fit, v) predict(fit, newdata = data.frame(lx = v))
read_back <- function(fit, y) {
  lo <- log(1e-6); hi <- log(1e9)
  f <- function(v) curve_at(fit, v) - y
  if (sign(f(lo)) == sign(f(hi))) return(NA_real_)  # beyond an asymptote
  exp(uniroot(f, c(lo, hi), tol = 1e-14, maxiter = 1000)$root)
}
# which end of the concentration axis a response lies beyond: -1 zero end, +1 infinite
beyond <- function(fit, y) {
  cf <- coef(fit)
  frac <- (y - cf[["A"]]) / (cf[["B"]] - cf[["A"]])
  if (frac <= 0) -1 else if (frac >= 1) 1 else 0
}

params <- list(); fits <- list(); stds <- list(); smps <- list()
for (model in c("4pl", "5pl")) for (weights in c("none", "1/y", "1/y^2")) {
  fit <- fit_one(model, weights)
  stopifnot(fit$convInfo$isConv)
  co <- summary(fit)$coefficients
  nm <- c(A = "r0", B = "rinf", xmid = "xmid", scal = "scal", g = "g")
  params[[length(params) + 1]] <- data.frame(model = model, weights = weights,
    parameter = unname(nm[rownames(co)]), estimate = co[, 1], se = co[, 2])
  w <- switch(weights, "none" = rep(1, nrow(std)), "1/y" = 1 / std$y, "1/y^2" = 1 / std$y^2)
  r <- residuals(fit)  # unweighted: y - fitted
  rss <- sum(w * r^2)
  ybar <- sum(w * std$y) / sum(w)
  fits[[length(fits) + 1]] <- data.frame(model = model, weights = weights,
    blank_od = blank_od, n = nrow(std), df = df.residual(fit),
    sigma = summary(fit)$sigma, rss = rss,
    r_squared = 1 - rss / sum(w * (std$y - ybar)^2))
  s <- aggregate(y ~ concentration, data = std, FUN = mean)
  s$back_calculated <- vapply(s$y, function(v) read_back(fit, v), numeric(1))
  s$recovery_percent <- s$back_calculated / s$concentration * 100
  ok <- s$concentration[!is.na(s$recovery_percent) &
                        s$recovery_percent >= 80 & s$recovery_percent <= 120]
  lloq <- min(ok); uloq <- max(ok)
  stds[[length(stds) + 1]] <- data.frame(model = model, weights = weights,
    concentration = s$concentration, od_mean = s$y, back_calculated = s$back_calculated,
    recovery_percent = s$recovery_percent)
  m <- aggregate(y ~ sample + dilution, data = smp, FUN = mean)
  m <- m[order(m$sample), ]
  x <- vapply(m$y, function(v) read_back(fit, v), numeric(1))
  side <- vapply(m$y, function(v) beyond(fit, v), numeric(1))
  cens <- ifelse(side < 0 | (!is.na(x) & x < lloq), "left",
                 ifelse(side > 0 | (!is.na(x) & x > uloq), "right", "none"))
  smps[[length(smps) + 1]] <- data.frame(model = model, weights = weights,
    sample = m$sample, dilution = m$dilution, od_mean = m$y, extrapolated = x * m$dilution,
    concentration = ifelse(cens == "none", x * m$dilution, NA_real_), censored = cens,
    bound = ifelse(cens == "left", lloq * m$dilution,
                   ifelse(cens == "right", uloq * m$dilution, NA_real_)))
}

wcsv <- function(lst, name) {
  df <- do.call(rbind, lst)
  write.csv(fmt(df), file.path(out_dir, name), row.names = FALSE, quote = TRUE, na = "")
}
wcsv(params, "reference_parameters.csv")
wcsv(fits, "reference_fit.csv")
wcsv(stds, "reference_standards.csv")
wcsv(smps, "reference_samples.csv")
cat("nls convergence (achieved tolerance):\n")
for (model in c("4pl", "5pl")) for (weights in c("none", "1/y", "1/y^2")) {
  cat(sprintf("  %s %s: %.3g\n", model, weights, fit_one(model, weights)$convInfo$finTol))
}
