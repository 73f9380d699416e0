# Reference values for analysis/weighting.py (post-stratification, raking).
#
# Run from the repository root with R 4.2 and survey 4.1:
#   Rscript tests/analysis/reference/weighting.R
# It writes tests/analysis/reference/weighting_expected.json, which the Python tests read;
# the tests never need R.  Each entry records the R call that produced it.
suppressMessages(library(survey))
library(jsonlite)
data(api)  # the same data as ../shared/reference/api/*.csv

out <- list(r_version = R.version.string,
            survey_version = as.character(packageVersion("survey")))

stat <- function(s) {
  v <- vcov(s)
  list(estimate = unname(coef(s)), se = unname(sqrt(diag(v))), vcov = unname(as.vector(v)))
}

dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)

pop.types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop.schwide <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))
pop.compimp <- as.data.frame(table(comp.imp = apipop$comp.imp))
pop.awards <- as.data.frame(table(awards = apipop$awards))
pop.joint <- as.data.frame(table(stype = apipop$stype, sch.wide = apipop$sch.wide))
ctrl <- list(maxit = 200, epsilon = 1e-8)

# Smallest maxit for which rake() converges (no warning), to pin R's convergence test.
min_maxit <- function(design, margins, pops, epsilon) {
  for (k in 1:200) {
    warned <- FALSE
    withCallingHandlers(rake(design, margins, pops, control = list(maxit = k, epsilon = epsilon)),
                        warning = function(w) { warned <<- TRUE; invokeRestart("muffleWarning") })
    if (!warned) return(k)
  }
  NA
}

cases <- list()
add <- function(name, call, design, domain_design) {
  cases[[name]] <<- list(
    call = call,
    weights = unname(weights(design)),
    mean_api00 = stat(svymean(~api00, design)),
    total_enroll = stat(svytotal(~enroll, design, na.rm = TRUE)),
    mean_api00_api99 = stat(svymean(~api00 + api99, design)),
    prop_sch_wide = stat(svymean(~I(as.numeric(sch.wide == "Yes")), design)),
    domain_mean_api00 = stat(svymean(~api00, domain_design)),
    domain_total_enroll = stat(svytotal(~enroll, domain_design, na.rm = TRUE))
  )
}

ps1 <- postStratify(dclus1, ~stype, pop.types)
add("ps_clus1_stype",
    "postStratify(dclus1, ~stype, pop.types); domain subset(., both == 'Yes')",
    ps1, subset(ps1, both == "Yes"))

ps2 <- postStratify(dclus1, ~stype + sch.wide, pop.joint)
add("ps_clus1_joint",
    "postStratify(dclus1, ~stype + sch.wide, pop.joint); domain subset(., both == 'Yes')",
    ps2, subset(ps2, both == "Yes"))

ps3 <- postStratify(dstrat, ~sch.wide, pop.schwide)
add("ps_strat_schwide",
    "postStratify(dstrat, ~sch.wide, pop.schwide); domain subset(., stype == 'H')",
    ps3, subset(ps3, stype == "H"))

rk1 <- rake(dclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide), control = ctrl)
add("rake_clus1",
    "rake(dclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide), control = ctrl)",
    rk1, subset(rk1, both == "Yes"))
cases$rake_clus1$min_maxit <- min_maxit(dclus1, list(~stype, ~sch.wide),
                                        list(pop.types, pop.schwide), 1e-8)

rk2 <- rake(dstrat, list(~sch.wide, ~comp.imp, ~awards),
            list(pop.schwide, pop.compimp, pop.awards), control = ctrl)
add("rake_strat3",
    "rake(dstrat, list(~sch.wide, ~comp.imp, ~awards), list(...), control = ctrl)",
    rk2, subset(rk2, stype == "H"))
cases$rake_strat3$min_maxit <- min_maxit(dstrat, list(~sch.wide, ~comp.imp, ~awards),
                                         list(pop.schwide, pop.compimp, pop.awards), 1e-8)

rk3 <- rake(dclus1, list(~stype + sch.wide, ~comp.imp), list(pop.joint, pop.compimp),
            control = ctrl)
add("rake_clus1_jointmargin",
    "rake(dclus1, list(~stype + sch.wide, ~comp.imp), list(pop.joint, pop.compimp), control = ctrl)",
    rk3, subset(rk3, both == "Yes"))

# R's own example(rake) control: maxit = 10, epsilon = 1 (absolute).
rk4 <- rake(dclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide))
add("rake_clus1_default_control",
    "rake(dclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide))",
    rk4, subset(rk4, both == "Yes"))

ps_then_rake <- rake(postStratify(dclus1, ~stype, pop.types), list(~comp.imp, ~awards),
                     list(pop.compimp, pop.awards), control = ctrl)
add("ps_then_rake_clus1",
    "rake(postStratify(dclus1, ~stype, pop.types), list(~comp.imp, ~awards), ..., control = ctrl)",
    ps_then_rake, subset(ps_then_rake, both == "Yes"))

ps5 <- postStratify(dclus2, ~stype, pop.types)
add("ps_clus2_stype",
    "postStratify(svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2), ~stype, pop.types)",
    ps5, subset(ps5, both == "Yes"))

# Nonresponse: schools with snum %% 5 == 0 "refused"; weighting-class adjustment in stype
# cells, nonrespondents kept at weight 0, then calibration.  postStratify handles the zero
# rows itself (svyrecvar gives them psw = 1, so they get a residual -- R's number is pinned
# as is).  R's *raking* variance is NaN with zero-weight rows (x / psw = 0 / 0), so that
# reference holds the respondents only; all 15 PSUs keep respondents, so it is the design
# Python gets by keeping nonrespondents at weight 0 (analysis.weighting documents this).
a <- apiclus1
a$resp <- a$snum %% 5 != 0
a$wnr <- ifelse(a$resp, a$pw * ave(a$pw, a$stype, FUN = sum) /
                  ave(a$pw * a$resp, a$stype, FUN = sum), 0)
out$nonresponse <- list(
  call = "ifelse(resp, pw * ave(pw, stype, FUN = sum) / ave(pw * resp, stype, FUN = sum), 0)",
  responded = a$resp, weights = a$wnr)
ps6 <- postStratify(svydesign(id = ~dnum, weights = ~wnr, data = a, fpc = ~fpc),
                    ~sch.wide, pop.schwide)
add("nr_then_ps_clus1",
    "postStratify(svydesign(id = ~dnum, weights = ~wnr, data = a, fpc = ~fpc), ~sch.wide, pop.schwide)",
    ps6, subset(ps6, both == "Yes"))
dnr <- svydesign(id = ~dnum, weights = ~wnr, data = a[a$resp, ], fpc = ~fpc)
rk7 <- rake(dnr, list(~stype, ~sch.wide), list(pop.types, pop.schwide), control = ctrl)
add("nr_then_rake_clus1",
    "rake(svydesign(id = ~dnum, weights = ~wnr, data = a[a$resp, ], fpc = ~fpc), list(~stype, ~sch.wide), ..., control = ctrl)",
    rk7, subset(rk7, both == "Yes"))

out$cases <- cases
out$populations <- list(
  stype = setNames(as.list(pop.types$Freq), pop.types$stype),
  sch.wide = setNames(as.list(pop.schwide$Freq), pop.schwide$sch.wide),
  comp.imp = setNames(as.list(pop.compimp$Freq), as.character(pop.compimp$comp.imp)),
  awards = setNames(as.list(pop.awards$Freq), as.character(pop.awards$awards)),
  stype_sch.wide = lapply(split(pop.joint, seq_len(nrow(pop.joint))), function(r)
    list(stype = as.character(r$stype), sch.wide = as.character(r$sch.wide), Freq = r$Freq))
)
names(out$populations$stype_sch.wide) <- NULL

write_json(out, "tests/analysis/reference/weighting_expected.json",
           digits = I(17), auto_unbox = TRUE, pretty = TRUE)
cat("wrote tests/analysis/reference/weighting_expected.json\n")
