# Expected values for tests/analysis/test_national.py: run from the repository root with
#   Rscript tests/analysis/reference/national.R
# (R 4.2.2, survey 4.1-1). The national SIPAS index and each province's on three provinces'
# samples put together: provinces as strata, each province's design nested inside.
# Writes tests/analysis/reference/national_expected.csv: key, value, call.
suppressMessages(library(survey))
options(survey.adjust.domain.lonely = FALSE, survey.lonely.psu = "fail")
nat <- read.csv("tests/analysis/reference/national_small.csv", na.strings = "",
                encoding = "UTF-8")
out <- data.frame(key = character(), value = numeric(), call = character())
put <- function(key, value, call) out[nrow(out) + 1, ] <<- list(key, as.numeric(value), call)
items <- c("I1", "I2", "I3", "II1", "II2", "V1", "V2")
for (it in items) {
  v <- nat[[it]]
  ok <- !is.na(v) & v %in% 1:5
  nat[[paste0("v_", it)]] <- as.numeric(ok)
  nat[[paste0("s_", it)]] <- ifelse(ok, as.numeric(v %in% 4:5), 0)
}
els <- list(I = c("I1", "I2", "I3"), II = c("II1", "II2"), V = c("V1", "V2"))
dn <- svydesign(id = ~psu, strata = ~interaction(province, stratum), weights = ~weight,
                nest = TRUE, data = nat)
num <- as.formula(paste("~", paste0("s_", items, collapse = "+")))
den <- as.formula(paste("~", paste0("v_", items, collapse = "+")))
for (dom in c("all", unique(nat$province))) {
  inside <- if (dom == "all") rep(TRUE, nrow(nat)) else nat$province == dom
  sub <- subset(dn, inside)
  r <- svyratio(num, den, sub, covmat = TRUE)
  cf <- coef(r); V <- vcov(r)
  for (it in items) {
    p <- paste0("s_", it, "/v_", it)
    call <- "svyratio(~s_k, ~v_k, subset(dn, dom), covmat=TRUE)"
    put(paste0(dom, ".", it, ".est"), cf[p], call)
    put(paste0(dom, ".", it, ".se"), sqrt(V[p, p]), call)
    put(paste0(dom, ".", it, ".df"), degf(subset(dn, inside & nat[[paste0("v_", it)]] > 0)),
        "degf(subset(dn, dom & valid))")
  }
  L <- matrix(0, nrow = length(els) + 1, ncol = length(cf),
              dimnames = list(c(names(els), "SIPAS"), names(cf)))
  for (e in names(els)) L[e, paste0("s_", els[[e]], "/v_", els[[e]])] <- 1 / length(els[[e]])
  L["SIPAS", ] <- colSums(L[names(els), , drop = FALSE]) / length(els)
  for (e in c(names(els), "SIPAS")) {
    con <- svycontrast(r, L[e, ])
    call <- paste0("svycontrast(svyratio(num, den, subset(dn, ", dom, "), covmat=TRUE), L['",
                   e, "',])")
    put(paste0(dom, ".", e, ".est"), coef(con), call)
    put(paste0(dom, ".", e, ".se"), SE(con), call)
  }
}
put("all.df", degf(dn), "degf(dn)")
out$value <- sprintf("%.15g", out$value)
write.csv(out, "tests/analysis/reference/national_expected.csv", row.names = FALSE,
          fileEncoding = "UTF-8")
cat(nrow(out), "values written\n")
