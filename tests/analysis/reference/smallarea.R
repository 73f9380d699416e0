# Expected values for tests/analysis/test_smallarea.py: the Fay-Herriot model as R's sae
# package computes it (sae 1.3, eblupFH and mseFH, REML). sae is not among Debian's R
# packages: its two R files are sourced from a copy of its sources (github cran/sae):
#   SAE_SOURCES=/path/to/sae/R Rscript tests/analysis/reference/smallarea.R
# Writes tests/analysis/reference/smallarea_areas.csv (the areas) and smallarea_expected.csv.
src <- Sys.getenv("SAE_SOURCES", "../sae/R")
source(file.path(src, "eblupFH.R"))
source(file.path(src, "mseFH.R"))
set.seed(19)
m <- 30  # communes: a direct estimate with its sampling variance, two auxiliary shares
desk_share <- round(runif(m, 0.55, 0.95), 3)        # desk evaluations satisfied
on_time <- round(runif(m, 0.6, 0.99), 3)             # dossiers returned on time
truth <- 0.1 + 0.55 * desk_share + 0.25 * on_time + rnorm(m, 0, 0.04)
vardir <- round(runif(m, 0.0015, 0.012), 5)          # two PSUs each: large variances
direct <- round(truth + rnorm(m, 0, sqrt(vardir)), 4)
areas <- data.frame(commune = sprintf("X%02d", 1:m), direct = direct, vardir = vardir,
                    desk_share = desk_share, on_time = on_time)
write.csv(areas, "tests/analysis/reference/smallarea_areas.csv", row.names = FALSE, quote = FALSE)
out <- data.frame(key = character(), value = numeric(), call = character())
put <- function(key, value, call) out[nrow(out) + 1, ] <<- list(key, as.numeric(value), call)
for (spec in list(list(name = "two", f = direct ~ desk_share + on_time),
                  list(name = "one", f = direct ~ desk_share))) {
  fit <- mseFH(spec$f, vardir, method = "REML", data = areas)
  call <- paste0("mseFH(", deparse(spec$f), ", vardir, method='REML', data=areas)")
  put(paste0(spec$name, ".refvar"), fit$est$fit$refvar, paste0(call, "$est$fit$refvar"))
  put(paste0(spec$name, ".iterations"), fit$est$fit$iterations, paste0(call, "$est$fit$iterations"))
  for (j in seq_len(nrow(fit$est$fit$estcoef))) {
    put(paste0(spec$name, ".beta", j), fit$est$fit$estcoef$beta[j], paste0(call, "$est$fit$estcoef"))
    put(paste0(spec$name, ".beta", j, ".se"), fit$est$fit$estcoef$std.error[j], paste0(call, "$est$fit$estcoef"))
  }
  for (d in 1:m) {
    put(paste0(spec$name, ".eblup.", areas$commune[d]), fit$est$eblup[d], paste0(call, "$est$eblup"))
    put(paste0(spec$name, ".mse.", areas$commune[d]), fit$mse[d], paste0(call, "$mse"))
  }
}
out$value <- sprintf("%.15g", out$value)
write.csv(out, "tests/analysis/reference/smallarea_expected.csv", row.names = FALSE)
cat(nrow(out), "values written\n")
