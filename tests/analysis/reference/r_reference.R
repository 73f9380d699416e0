# Expected values for tests/analysis: run from the repository root with
#   Rscript tests/analysis/reference/r_reference.R
# (R 4.2.2, survey 4.1-1). Writes tests/analysis/reference/r_expected.csv: key, value, call.
suppressMessages(library(survey))
options(survey.adjust.domain.lonely = FALSE, survey.lonely.psu = "fail")
api <- file.path("..", "shared", "reference", "api")
apistrat <- read.csv(file.path(api, "apistrat.csv"))
apiclus1 <- read.csv(file.path(api, "apiclus1.csv"))
apiclus2 <- read.csv(file.path(api, "apiclus2.csv"))
small <- read.csv("tests/analysis/reference/sipas_small.csv", na.strings = "")
out <- data.frame(key = character(), value = numeric(), call = character())
put <- function(key, value, call) {
  out[nrow(out) + 1, ] <<- list(key, as.numeric(value), call)
}
stat <- function(prefix, est, call, df = NULL) {
  put(paste0(prefix, ".est"), coef(est)[1], call)
  put(paste0(prefix, ".se"), SE(est)[1], call)
  if (!is.null(attr(est, "deff"))) put(paste0(prefix, ".deff"), deff(est)[1], call)
}
ciprop <- function(prefix, f, des, method) {
  ci <- svyciprop(f, des, method = method)
  call <- paste0("svyciprop(", deparse(f), ", ", deparse(substitute(des)), ", method='", method, "')")
  put(paste0(prefix, ".", method, ".est"), coef(ci), call)
  put(paste0(prefix, ".", method, ".low"), confint(ci)[1], call)
  put(paste0(prefix, ".", method, ".high"), confint(ci)[2], call)
  put(paste0(prefix, ".", method, ".df"), degf(des), call)
}

# --- api: published values, totals, ratios, deff, fpc as sizes and fractions ------------
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat)
stat("dstrat.api00", svymean(~api00, dstrat, deff = "replace"), "svymean(~api00, dstrat, deff='replace')")
stat("dstrat.enroll.total", svytotal(~enroll, dstrat, deff = "replace"), "svytotal(~enroll, dstrat, deff='replace')")
r <- svyratio(~api00, ~api99, dstrat)
put("dstrat.ratio.est", coef(r), "svyratio(~api00, ~api99, dstrat)")
put("dstrat.ratio.se", SE(r), "svyratio(~api00, ~api99, dstrat)")
apistrat$frac <- 1 / apistrat$pw
dfrac <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~frac, data = apistrat)
stat("dfrac.api00", svymean(~api00, dfrac), "svymean(~api00, svydesign(id=~1, strata=~stype, weights=~pw, fpc=~frac))")
dclus1 <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1)
stat("dclus1.api00", svymean(~api00, dclus1, deff = "replace"), "svymean(~api00, dclus1, deff='replace')")
for (m in c("logit", "mean", "asin", "beta", "xlogit"))
  ciprop("dclus1.schwide", ~I(sch.wide == "Yes"), dclus1, m)
# domains: svyby with the df of each subset
for (s in c("E", "H", "M")) {
  sub <- subset(dclus1, stype == s)
  stat(paste0("dclus1.api00.", s), svymean(~api00, sub, deff = "replace"),
       paste0("svymean(~api00, subset(dclus1, stype=='", s, "'), deff='replace')"))
  put(paste0("dclus1.api00.", s, ".df"), degf(sub), paste0("degf(subset(dclus1, stype=='", s, "'))"))
  for (m in c("logit", "beta", "asin", "mean"))
    ciprop(paste0("dclus1.schwide.", s), ~I(sch.wide == "Yes"), sub, m)
}
# an item with missing answers is a domain: acs.k3 is NA for middle and high schools
for (s in c("all", "E", "M")) {
  sub <- if (s == "all") subset(dstrat, !is.na(acs.k3)) else subset(dstrat, stype == s & !is.na(acs.k3))
  stat(paste0("dstrat.acsk3.", s), svymean(~acs.k3, sub, deff = "replace"),
       paste0("svymean(~acs.k3, subset(dstrat, ", s, " & !is.na(acs.k3)), deff='replace')"))
  put(paste0("dstrat.acsk3.", s, ".df"), degf(sub), "degf(subset(dstrat, <domain> & !is.na(acs.k3)))")
}
# two stages with fpc at both, weights from the fpc and given weights; nest = TRUE
dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
stat("dclus2.api00", svymean(~api00, dclus2, deff = "replace"), "svymean(~api00, dclus2, deff='replace')")
stat("dclus2.enroll.total", svytotal(~enroll, dclus2, na.rm = TRUE), "svytotal(~enroll, dclus2, na.rm=TRUE)")
ciprop("dclus2.schwide", ~I(sch.wide == "Yes"), dclus2, "logit")
for (s in c("E", "H", "M")) {
  sub <- subset(dclus2, stype == s)
  stat(paste0("dclus2.api00.", s), svymean(~api00, sub), paste0("svymean(~api00, subset(dclus2, stype=='", s, "'))"))
  put(paste0("dclus2.api00.", s, ".df"), degf(sub), "degf(subset(dclus2, stype==s))")
}
dclus2w <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, weights = ~pw, data = apiclus2)
stat("dclus2w.api00", svymean(~api00, dclus2w), "svymean(~api00, svydesign(id=~dnum+snum, fpc=~fpc1+fpc2, weights=~pw))")
dnest <- svydesign(id = ~dnum, strata = ~stype, weights = ~pw, data = apiclus1, nest = TRUE)
options(survey.lonely.psu = "adjust")
stat("dnest.api00", svymean(~api00, dnest), "svymean(~api00, svydesign(id=~dnum, strata=~stype, weights=~pw, nest=TRUE)) [adjust]")
put("dnest.df", degf(dnest), "degf(dnest)")
options(survey.lonely.psu = "fail")

# --- synthetic SIPAS sample: lonely PSUs under each policy ---------------------------------
items <- c("I1", "I2", "I3", "II1", "II2", "V1", "V2")
for (it in items) {
  v <- small[[it]]
  ok <- !is.na(v) & v %in% 1:5
  small[[paste0("v_", it)]] <- as.numeric(ok)
  small[[paste0("s_", it)]] <- ifelse(ok, as.numeric(v %in% 4:5), 0)
  small[[paste0("m_", it)]] <- ifelse(ok, v, 0)
  small[[paste0("d_", it)]] <- ifelse(ok, as.numeric(v %in% 1:2), 0)
  small[[paste0("sat_", it)]] <- ifelse(ok, as.numeric(v %in% 4:5), NA)
}
dl <- svydesign(id = ~psu, strata = ~stratum, weights = ~weight, data = small)
for (pol in c("remove", "certainty", "adjust", "average")) {
  options(survey.lonely.psu = pol)
  for (dom in c("all", "D1", "D2", "D3")) {
    sub <- if (dom == "all") subset(dl, !is.na(sat_I1)) else subset(dl, district == dom & !is.na(sat_I1))
    stat(paste0("lonely.", pol, ".", dom), svymean(~sat_I1, sub),
         paste0("svymean(~sat_I1, subset(dl, ", dom, " & !is.na(sat_I1))) [lonely.psu='", pol, "']"))
    put(paste0("lonely.", pol, ".", dom, ".df"), degf(sub), "degf(subset(dl, dom & !is.na(sat_I1)))")
  }
}
dlf <- svydesign(id = ~psu, strata = ~stratum, weights = ~weight, fpc = ~fpc, data = small)
for (pol in c("certainty", "adjust", "average")) {
  options(survey.lonely.psu = pol)
  stat(paste0("lonelyfpc.", pol), svymean(~sat_I1, subset(dlf, !is.na(sat_I1))),
       paste0("svymean(~sat_I1, subset(dlf, !is.na(sat_I1))) fpc=~fpc [", pol, "]"))
}
options(survey.lonely.psu = "fail")
msg <- tryCatch({svymean(~sat_I1, subset(dl, !is.na(sat_I1))); "no error"}, error = function(e) conditionMessage(e))
cat("lonely fail:", msg, "\n")

# --- synthetic SIPAS sample: the index (svyratio covmat + svycontrast) --------------------
els <- list(I = c("I1", "I2", "I3"), II = c("II1", "II2"), V = c("V1", "V2"))
ds <- svydesign(id = ~psu, strata = ~stratum2, weights = ~weight, data = small)
for (dom in c("all", "D1", "D2", "D3")) {
  inside <- if (dom == "all") rep(TRUE, nrow(small)) else small$district == dom
  present <- items[sapply(items, function(it) sum(small[[paste0("v_", it)]][inside]) > 0)]
  sub <- subset(ds, inside)
  num <- as.formula(paste("~", paste0("s_", present, collapse = "+")))
  den <- as.formula(paste("~", paste0("v_", present, collapse = "+")))
  r <- svyratio(num, den, sub, covmat = TRUE)
  cf <- coef(r); V <- vcov(r)
  pick <- paste0("s_", present, "/v_", present)
  for (it in present) {
    p <- paste0("s_", it, "/v_", it)
    dfi <- degf(subset(ds, inside & small[[paste0("v_", it)]] > 0))
    put(paste0("index.", dom, ".", it, ".est"), cf[p], "svyratio(~s_k, ~v_k, subset(ds, dom), covmat=TRUE)")
    put(paste0("index.", dom, ".", it, ".se"), sqrt(V[p, p]), "svyratio(..., covmat=TRUE)")
    put(paste0("index.", dom, ".", it, ".df"), dfi, "degf(subset(ds, dom & !is.na(item)))")
    for (what in c("m", "d")) {
      rr <- svyratio(as.formula(paste0("~", what, "_", it)), as.formula(paste0("~v_", it)), sub)
      put(paste0("index.", dom, ".", it, ".", what, ".est"), coef(rr), paste0("svyratio(~", what, "_k, ~v_k, subset(ds, dom))"))
      put(paste0("index.", dom, ".", it, ".", what, ".se"), SE(rr), paste0("svyratio(~", what, "_k, ~v_k, subset(ds, dom))"))
    }
  }
  L <- matrix(0, nrow = length(els) + 1, ncol = length(cf), dimnames = list(c(names(els), "SIPAS"), names(cf)))
  has <- c()
  for (e in names(els)) {
    it <- intersect(els[[e]], present)
    if (length(it)) { L[e, paste0("s_", it, "/v_", it)] <- 1 / length(it); has <- c(has, e) }
  }
  L["SIPAS", ] <- colSums(L[has, , drop = FALSE]) / length(has)
  for (e in c(has, "SIPAS")) {
    con <- svycontrast(r, L[e, ])
    its <- if (e == "SIPAS") items else els[[e]]
    anyv <- rowSums(small[, paste0("v_", its), drop = FALSE]) > 0
    dfe <- degf(subset(ds, inside & anyv))
    est <- coef(con); se <- SE(con)
    tq <- qt(0.975, dfe)
    lo <- plogis(qlogis(est) - tq * se / (est * (1 - est)))
    hi <- plogis(qlogis(est) + tq * se / (est * (1 - est)))
    call <- paste0("svycontrast(svyratio(num, den, subset(ds, ", dom, "), covmat=TRUE), L['", e, "',])")
    put(paste0("index.", dom, ".", e, ".est"), est, call)
    put(paste0("index.", dom, ".", e, ".se"), se, call)
    put(paste0("index.", dom, ".", e, ".df"), dfe, "degf(subset(ds, dom & any valid))")
    put(paste0("index.", dom, ".", e, ".low"), lo, "plogis(qlogis(est) - qt(.975, df) * se/(est*(1-est)))")
    put(paste0("index.", dom, ".", e, ".high"), hi, "plogis(qlogis(est) + qt(.975, df) * se/(est*(1-est)))")
  }
}
out$value <- sprintf("%.15g", out$value)
write.csv(out, "tests/analysis/reference/r_expected.csv", row.names = FALSE)
cat(nrow(out), "values written\n")
