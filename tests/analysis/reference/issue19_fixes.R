# Expected values for tests/analysis/test_r_fixes.py (issue 19: five places SIPAS and R
# differed). Run from the repository root with
#   Rscript tests/analysis/reference/issue19_fixes.R
# (R 4.2.2, survey 4.1-1). Writes tests/analysis/reference/issue19_expected.csv and the
# margins file it rakes to (issue19_margins.csv, in sipas index/estimate's --rake format).
suppressMessages(library(survey))
options(survey.adjust.domain.lonely = FALSE)
small <- read.csv("tests/analysis/reference/sipas_small.csv", na.strings = "")
api <- file.path("..", "shared", "reference", "api")
apistrat <- read.csv(file.path(api, "apistrat.csv"))
out <- data.frame(key = character(), value = numeric(), call = character())
put <- function(key, value, call) out[nrow(out) + 1, ] <<- list(key, as.numeric(value), call)
items <- c("I1", "I2", "I3", "II1", "II2", "V1", "V2")
for (it in items) {
  v <- small[[it]]
  ok <- !is.na(v) & v %in% 1:5
  small[[paste0("v_", it)]] <- as.numeric(ok)
  small[[paste0("s_", it)]] <- ifelse(ok, as.numeric(v %in% 4:5), 0)
  small[[paste0("sat_", it)]] <- ifelse(ok, as.numeric(v %in% 4:5), NA)
}
# a calibrated subset keeps its other rows (weight 0), whose values must not be NA
small$satz_I1 <- ifelse(is.na(small$sat_I1), 0, small$sat_I1)

# 2. A criterion under lonely.psu = "average" is svyratio on the domain's subset: every
# stratum with rows in the domain counts, whether or not they answered the item. Stratum S2
# answers no element V item here (issue19_average.csv), S6 is the lonely one.
avg <- small
avg$V1[avg$stratum == "S2"] <- NA
avg$V2[avg$stratum == "S2"] <- NA
write.csv(avg[, c("stratum", "psu", "district", "weight", items)],
          "tests/analysis/reference/issue19_average.csv", row.names = FALSE, quote = FALSE, na = "")
for (it in c("V1", "V2")) {
  ok <- !is.na(avg[[it]]) & avg[[it]] %in% 1:5
  avg[[paste0("v_", it)]] <- as.numeric(ok)
  avg[[paste0("s_", it)]] <- ifelse(ok, as.numeric(avg[[it]] %in% 4:5), 0)
}
options(survey.lonely.psu = "average")
dl <- svydesign(id = ~psu, strata = ~stratum, weights = ~weight, data = avg)
for (dom in c("all", "D1", "D2", "D3")) {
  inside <- if (dom == "all") rep(TRUE, nrow(avg)) else avg$district == dom
  for (it in items) {
    if (sum(avg[[paste0("v_", it)]][inside]) == 0) next
    r <- svyratio(as.formula(paste0("~s_", it)), as.formula(paste0("~v_", it)), subset(dl, inside))
    call <- paste0("svyratio(~s_", it, ", ~v_", it, ", subset(dl, ", dom, ")) [lonely.psu='average']")
    put(paste0("average.", dom, ".", it, ".est"), coef(r), call)
    put(paste0("average.", dom, ".", it, ".se"), SE(r), call)
  }
}
options(survey.lonely.psu = "fail")

# 3. The beta (Korn-Graubard) interval on a calibrated design: n_eff scaled with
# qt(, nrow(design) - 1), and a subset of a calibrated design keeps every row.
ds <- svydesign(id = ~psu, strata = ~stratum2, weights = ~weight, data = small)
pop_d <- data.frame(district = c("D1", "D2", "D3"), Freq = c(5200, 3400, 2400))
pop_s <- data.frame(stratum2 = paste0("S", 1:5), Freq = c(1800, 2500, 1700, 3000, 2000))
write.csv(rbind(data.frame(variable = "district", value = pop_d$district, total = pop_d$Freq),
                data.frame(variable = "stratum2", value = pop_s$stratum2, total = pop_s$Freq)),
          "tests/analysis/reference/issue19_margins.csv", row.names = FALSE, quote = FALSE)
dr <- rake(ds, list(~district, ~stratum2), list(pop_d, pop_s), control = list(epsilon = 1e-10, maxit = 100))
for (dom in c("all", "D1", "D2", "D3")) {
  inside <- if (dom == "all") rep(TRUE, nrow(small)) else small$district == dom
  sub <- subset(dr, inside & !is.na(small$sat_I1))
  ci <- svyciprop(~satz_I1, sub, method = "beta")
  call <- paste0("svyciprop(~satz_I1, subset(rake(ds, ~district + ~stratum2), ", dom, " & !is.na(sat_I1)), method='beta')")
  put(paste0("beta.", dom, ".est"), coef(ci), call)
  put(paste0("beta.", dom, ".low"), confint(ci)[1], call)
  put(paste0("beta.", dom, ".high"), confint(ci)[2], call)
  put(paste0("beta.", dom, ".nrow"), nrow(sub), "nrow(subset(calibrated, ...)): every row")
}

# 4. The design effect of a ratio whose denominator is not 0/1.
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat)
r <- svyratio(~api00, ~enroll, dstrat, deff = "replace")
put("ratio.api00.enroll.est", coef(r), "svyratio(~api00, ~enroll, dstrat, deff='replace')")
put("ratio.api00.enroll.se", SE(r), "svyratio(~api00, ~enroll, dstrat, deff='replace')")
put("ratio.api00.enroll.deff", deff(r), "svyratio(~api00, ~enroll, dstrat, deff='replace')")
r2 <- svyratio(~api00, ~api99, dstrat, deff = "replace")
put("ratio.api00.api99.deff", deff(r2), "svyratio(~api00, ~api99, dstrat, deff='replace')")
for (s in c("E", "H", "M")) {
  rs <- svyratio(~api00, ~enroll, subset(dstrat, stype == s), deff = "replace")
  put(paste0("ratio.", s, ".deff"), deff(rs), paste0("svyratio(~api00, ~enroll, subset(dstrat, stype=='", s, "'), deff='replace')"))
}

# 5. The mean of a coded item over its valid codes (9 = no answer is not a value): the file
# as exported, with the unanswered I1 coded 9 (issue19_nines.csv).
nines <- small[, c("stratum2", "psu", "district", "weight", "I1")]
nines$I1[is.na(nines$I1)] <- 9
write.csv(nines, "tests/analysis/reference/issue19_nines.csv", row.names = FALSE, quote = FALSE)
nines$I1v <- ifelse(nines$I1 %in% 1:5, nines$I1, NA)
dn <- svydesign(id = ~psu, strata = ~stratum2, weights = ~weight, data = nines)
m <- svymean(~I1v, subset(dn, !is.na(I1v)))
put("mean.I1.valid.est", coef(m), "svymean(~I1v, subset(dn, I1 %in% 1:5))")
put("mean.I1.valid.se", SE(m), "svymean(~I1v, subset(dn, I1 %in% 1:5))")
put("mean.I1.nines", sum(nines$I1 == 9), "sum(I1 == 9)")


# --- compare: differences of domain estimates, svyby(covmat = TRUE) + svycontrast --------
# a design with strata, PSUs and fpc (one population size per stratum: fpc2), and the
# calibrated one above; issue19_compare.csv is the file the test reads.
cmp <- small[, c("stratum2", "psu", "district", "weight", "fpc", "I1", "I2")]
cmp$fpc2 <- ave(cmp$fpc, cmp$stratum2, FUN = max)
set.seed(19)  # minutes waited: a numeric answer for quantiles (a few missing)
cmp$minutes <- round(rexp(nrow(cmp), 1 / 25), 1)
cmp$minutes[seq(5, nrow(cmp), by = 23)] <- NA
write.csv(cmp, "tests/analysis/reference/issue19_compare.csv", row.names = FALSE, quote = FALSE, na = "")
cmp$v1 <- as.numeric(!is.na(cmp$I1) & cmp$I1 %in% 1:5)
cmp$s1 <- ifelse(cmp$v1 == 1, as.numeric(cmp$I1 %in% 4:5), 0)
cmp$m2 <- ifelse(is.na(cmp$I2), 0, cmp$I2)
cmp$ok2 <- !is.na(cmp$I2)
pairs <- list(c("D1", "D2"), c("D1", "D3"), c("D2", "D3"))
# domains as variables zero outside them (svyby's covmat fails on a calibrated design in
# survey 4.1-1: "number of items to replace is not a multiple"), the same estimator
for (d in c("D1", "D2", "D3")) {
  inside <- cmp$district == d
  cmp[[paste0("s1_", d)]] <- cmp$s1 * inside; cmp[[paste0("v1_", d)]] <- cmp$v1 * inside
  cmp[[paste0("m2_", d)]] <- cmp$m2 * inside; cmp[[paste0("ok2_", d)]] <- cmp$ok2 * inside
}
dfpc <- svydesign(id = ~psu, strata = ~stratum2, weights = ~weight, fpc = ~fpc2, data = cmp)
dcal <- rake(svydesign(id = ~psu, strata = ~stratum2, weights = ~weight, data = cmp),
             list(~district, ~stratum2), list(pop_d, pop_s), control = list(epsilon = 1e-10, maxit = 100))
for (des_name in c("fpc", "rake")) {
  des <- if (des_name == "fpc") dfpc else dcal
  for (what in c("share", "mean")) {
    num <- if (what == "share") "s1_" else "m2_"
    den <- if (what == "share") "v1_" else "ok2_"
    r <- svyratio(as.formula(paste("~", paste0(num, c("D1", "D2", "D3"), collapse = "+"))),
                  as.formula(paste("~", paste0(den, c("D1", "D2", "D3"), collapse = "+"))),
                  des, covmat = TRUE)
    names_r <- paste0(num, c("D1", "D2", "D3"), "/", den, c("D1", "D2", "D3"))
    for (p in pairs) {
      L <- setNames(rep(0, length(coef(r))), names(coef(r)))
      L[paste0(num, p[1], "/", den, p[1])] <- 1
      L[paste0(num, p[2], "/", den, p[2])] <- -1
      con <- svycontrast(r, L)
      key <- paste0("compare.", des_name, ".", p[1], "-", p[2], ".", what)
      call <- paste0("svycontrast(svyratio(~", num, "D1+..., ~", den, "D1+..., ", des_name,
                     ", covmat=TRUE), ", p[1], " - ", p[2], ")")
      put(paste0(key, ".est"), coef(con), call)
      put(paste0(key, ".se"), SE(con), call)
    }
  }
  put(paste0("compare.", des_name, ".degf"), degf(des), "degf(design)")
}


# --- quantiles: svyquantile (qrule "math", Woodruff "mean" interval), overall and svyby -----
for (des_name in c("fpc", "rake")) {
  des <- if (des_name == "fpc") dfpc else dcal
  q <- svyquantile(~minutes, des, quantiles = c(0.25, 0.5, 0.9), ci = TRUE, na.rm = TRUE)
  tab <- q$minutes
  for (i in seq_len(nrow(tab))) {
    key <- paste0("quantile.", des_name, ".all.", rownames(tab)[i])
    call <- paste0("svyquantile(~minutes, ", des_name, ", quantiles=c(.25,.5,.9), ci=TRUE, na.rm=TRUE)")
    put(paste0(key, ".q"), tab[i, 1], call); put(paste0(key, ".low"), tab[i, 2], call)
    put(paste0(key, ".high"), tab[i, 3], call); put(paste0(key, ".se"), tab[i, 4], call)
  }
  for (d in c("D1", "D2", "D3")) {
    sub <- subset(des, district == d)
    q <- svyquantile(~minutes, sub, quantiles = 0.5, ci = TRUE, na.rm = TRUE)$minutes
    key <- paste0("quantile.", des_name, ".", d, ".0.5")
    call <- paste0("svyquantile(~minutes, subset(", des_name, ", district=='", d, "'), quantiles=.5, ci=TRUE, na.rm=TRUE)")
    put(paste0(key, ".q"), q[1, 1], call); put(paste0(key, ".low"), q[1, 2], call)
    put(paste0(key, ".high"), q[1, 3], call); put(paste0(key, ".se"), q[1, 4], call)
  }
}

# --- models: svyglm(satisfied ~ district + minutes, family = quasibinomial) ---------------
cmp$sat1 <- ifelse(cmp$v1 == 1, cmp$s1, NA)
dfpc <- svydesign(id = ~psu, strata = ~stratum2, weights = ~weight, fpc = ~fpc2, data = cmp)
dcal <- rake(svydesign(id = ~psu, strata = ~stratum2, weights = ~weight, data = cmp),
             list(~district, ~stratum2), list(pop_d, pop_s), control = list(epsilon = 1e-10, maxit = 100))
for (des_name in c("fpc", "rake")) {
  des <- if (des_name == "fpc") dfpc else dcal
  # fitted to convergence (glm's default epsilon 1e-8 leaves about 1e-6 in the SEs)
  g <- svyglm(sat1 ~ district + minutes, design = des, family = quasibinomial(),
              control = glm.control(epsilon = 1e-14, maxit = 100))
  tab <- summary(g)$coefficients
  ci <- confint(g)
  call <- paste0("svyglm(sat1 ~ district + minutes, ", des_name, ", family=quasibinomial(), control=glm.control(epsilon=1e-14))")
  for (term in rownames(tab)) {
    key <- paste0("model.", des_name, ".", term)
    put(paste0(key, ".est"), tab[term, 1], call)
    put(paste0(key, ".se"), tab[term, 2], call)
    put(paste0(key, ".p"), tab[term, 4], paste0("summary(", call, ")"))
    put(paste0(key, ".low"), ci[term, 1], paste0("confint(", call, ")"))
    put(paste0(key, ".high"), ci[term, 2], paste0("confint(", call, ")"))
  }
  put(paste0("model.", des_name, ".df"), g$df.residual, paste0(call, "$df.residual"))
}

# --- association: svychisq(~a + district, design) (Rao-Scott F, the default) ------------
cmp$satf <- factor(ifelse(cmp$v1 == 1, ifelse(cmp$s1 == 1, "satisfied", "not satisfied"), NA))
cmp$I2f <- factor(ifelse(cmp$I2 %in% 1:5, cmp$I2, NA))
dfpc <- svydesign(id = ~psu, strata = ~stratum2, weights = ~weight, fpc = ~fpc2, data = cmp)
dcal <- rake(svydesign(id = ~psu, strata = ~stratum2, weights = ~weight, data = cmp),
             list(~district, ~stratum2), list(pop_d, pop_s), control = list(epsilon = 1e-10, maxit = 100))
for (des_name in c("fpc", "rake")) {
  des <- if (des_name == "fpc") dfpc else dcal
  for (v in c("satf", "I2f")) {
    tst <- svychisq(as.formula(paste0("~", v, " + district")), des)
    call <- paste0("svychisq(~", v, " + district, ", des_name, ")")
    key <- paste0("assoc.", des_name, ".", v)
    put(paste0(key, ".f"), tst$statistic, call)
    put(paste0(key, ".ndf"), tst$parameter[1], call)
    put(paste0(key, ".ddf"), tst$parameter[2], call)
    put(paste0(key, ".p"), tst$p.value, call)
  }
}

# --- replicate weights: as.svrepdesign JKn (fpc design) and R's own bootstrap weights -----
rj <- as.svrepdesign(dfpc, type = "JKn")
rj_r <- svyratio(~s1, ~v1, rj)
put("rep.jkn.share.se", SE(rj_r), "SE(svyratio(~s1, ~v1, as.svrepdesign(fpc, type='JKn')))")
rj_b <- svyby(~s1, ~district, rj, svyratio, denominator = ~v1)
for (d in c("D1", "D2", "D3"))
  put(paste0("rep.jkn.share.", d, ".se"), SE(rj_b)[match(d, rj_b$district)],
      "svyby(~s1, ~district, as.svrepdesign(fpc, 'JKn'), svyratio, denominator=~v1)")
put("rep.jkn.mean.se", SE(svyratio(~m2, ~ok2, rj)), "SE(svyratio(~m2, ~ok2, JKn)): mean of I2")
put("rep.jkn.count", ncol(rj$repweights$weights), "replicates")
set.seed(2026)
ds2 <- svydesign(id = ~psu, strata = ~stratum2, weights = ~weight, data = cmp)
rb <- as.svrepdesign(ds2, type = "bootstrap", replicates = 40)
bw <- weights(rb, "analysis")
colnames(bw) <- paste0("boot_", seq_len(ncol(bw)))
boot <- cbind(cmp[, c("district", "weight", "I1", "I2")], bw)
write.csv(boot, "tests/analysis/reference/issue19_boot.csv", row.names = FALSE, quote = FALSE, na = "")
writeLines(sprintf('{"type": "bootstrap", "scale": %.17g, "rscales": [%s], "df": %d}', rb$scale,
                   paste(rep(1, ncol(bw)), collapse = ", "), degf(ds2)),
           "tests/analysis/reference/issue19_boot.csv.replicates.json")
rb_r <- svyratio(~s1, ~v1, rb)
put("rep.boot.share.se", SE(rb_r), "SE(svyratio(~s1, ~v1, as.svrepdesign(ds2, 'bootstrap', replicates=40))) set.seed(2026)")
rb_b <- svyby(~s1, ~district, rb, svyratio, denominator = ~v1)
for (d in c("D1", "D2", "D3"))
  put(paste0("rep.boot.share.", d, ".se"), SE(rb_b)[match(d, rb_b$district)], "svyby(~s1, ~district, bootstrap, svyratio, denominator=~v1)")
put("rep.boot.mean.se", SE(svyratio(~m2, ~ok2, rb)), "SE(svyratio(~m2, ~ok2, bootstrap)): mean of I2")

# --- each district's SIPAS index against the whole (districts made of whole PSUs) ---------
nest <- small[, c("stratum2", "psu", "district", "weight", "fpc", items)]
nest$district <- ave(nest$district, nest$psu, FUN = function(x) x[1])  # a PSU in one district
nest$fpc2 <- ave(nest$fpc, nest$stratum2, FUN = max)
write.csv(nest, "tests/analysis/reference/issue19_nested.csv", row.names = FALSE, quote = FALSE, na = "")
groups <- c("all", "D1", "D2", "D3")
els <- list(I = c("I1", "I2", "I3"), II = c("II1", "II2"), V = c("V1", "V2"))
nums <- c(); dens <- c(); wts <- list()
for (gname in groups) {
  inside <- if (gname == "all") rep(TRUE, nrow(nest)) else nest$district == gname
  for (it in items) {
    ok <- !is.na(nest[[it]]) & nest[[it]] %in% 1:5
    nest[[paste0("s_", it, "_", gname)]] <- ifelse(ok & inside, as.numeric(nest[[it]] %in% 4:5), 0)
    nest[[paste0("v_", it, "_", gname)]] <- as.numeric(ok & inside)
    nums <- c(nums, paste0("s_", it, "_", gname)); dens <- c(dens, paste0("v_", it, "_", gname))
  }
}
for (des_name in c("plain", "fpc")) {
dn <- if (des_name == "plain") svydesign(id = ~psu, strata = ~stratum2, weights = ~weight, data = nest) else
  svydesign(id = ~psu, strata = ~stratum2, weights = ~weight, fpc = ~fpc2, data = nest)
r <- svyratio(as.formula(paste("~", paste(nums, collapse = "+"))),
              as.formula(paste("~", paste(dens, collapse = "+"))), dn, covmat = TRUE)
pick <- paste0(nums, "/", dens)
cf <- coef(r)[pick]
L_of <- function(gname) {
  L <- setNames(rep(0, length(coef(r))), names(coef(r)))
  present <- items[sapply(items, function(it) sum(nest[[paste0("v_", it, "_", gname)]]) > 0)]
  has <- names(els)[sapply(els, function(e) length(intersect(e, present)) > 0)]
  for (e in has) {
    its <- intersect(els[[e]], present)
    key <- paste0("s_", its, "_", gname, "/v_", its, "_", gname)
    L[key] <- L[key] + 1 / length(its) / length(has)
  }
  L
}
for (gname in c("D1", "D2", "D3")) {
  con <- svycontrast(r, L_of(gname) - L_of("all"))
  call <- paste0("svycontrast(svyratio(~s_item_group..., ~v_item_group..., nested, covmat=TRUE), L[", gname, "] - L[all])")
  key <- if (des_name == "plain") "whole." else "whole.fpc."
  put(paste0(key, gname, ".est"), coef(con), call)
  put(paste0(key, gname, ".se"), SE(con), call)
}
put(if (des_name == "plain") "whole.degf" else "whole.fpc.degf", degf(dn), "degf(nested)")
}

# --- replicate weights of a raked design: rake(as.svrepdesign(design, "JKn"), margins) ------
rjc <- rake(as.svrepdesign(svydesign(id = ~psu, strata = ~stratum2, weights = ~weight, data = cmp),
                           type = "JKn"),
            list(~district, ~stratum2), list(pop_d, pop_s), control = list(epsilon = 1e-12, maxit = 100))
put("rep.jknrake.share.est", coef(svyratio(~s1, ~v1, rjc)), "svyratio(~s1, ~v1, rake(as.svrepdesign(ds, 'JKn'), ...))")
put("rep.jknrake.share.se", SE(svyratio(~s1, ~v1, rjc)), "svyratio(~s1, ~v1, rake(as.svrepdesign(ds, 'JKn'), ...))")
rjc_b <- svyby(~s1, ~district, rjc, svyratio, denominator = ~v1)
for (d in c("D1", "D2", "D3"))
  put(paste0("rep.jknrake.share.", d, ".se"), SE(rjc_b)[match(d, rjc_b$district)],
      "svyby(~s1, ~district, rake(as.svrepdesign(ds, 'JKn'), ...), svyratio, denominator=~v1)")
out$value <- sprintf("%.15g", out$value)
write.csv(out, "tests/analysis/reference/issue19_expected.csv", row.names = FALSE)
cat(nrow(out), "values written\n")
