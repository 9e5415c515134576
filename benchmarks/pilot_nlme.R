# Times nlme::lme on the response-course model (see benchmarks/bench_pilot.py).
# Usage: Rscript benchmarks/pilot_nlme.R DATA.csv REPEAT
suppressPackageStartupMessages(library(nlme))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
rep <- as.integer(args[2])
days <- sort(unique(d$study_day))
d$idx <- match(d$study_day, days)
d$post <- as.numeric(d$study_day > 0)
d$cell <- factor(paste(d$arm, d$study_day))
d$donor <- factor(d$donor)
d$animal <- factor(d$animal)
fit <- function() lme(value ~ 0 + cell,
                      random = list(donor = pdIdent(~ 0 + post), animal = pdDiag(~ 1 + post)),
                      correlation = corAR1(form = ~ idx | donor / animal),
                      data = d, method = "REML")
f <- fit()
times <- sapply(seq_len(rep), function(i) system.time(fit())[["elapsed"]])
cat(sprintf("nlme_seconds=%.6f\n", median(times)))
cat(sprintf("nlme_loglik=%.10f\n", as.numeric(logLik(f))))
cat(sprintf("nlme_version=%s\n", as.character(packageVersion("nlme"))))
