"""Do our estimates equal R survey 4.1's? (values pinned by reference/r_reference.R, rel 1e-6)

Each expected value is looked up by key in reference/r_expected.csv, whose third column is
the R call that produced it.
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis import estimate as E
from analysis.design import make_design
from analysis.engine import run
from analysis.estimate import Domains, satisfied_indicator, to_rows
from analysis.io import read_csv

REL = 1e-6


def close(actual: float, expected: float) -> bool:
    return actual == pytest.approx(expected, rel=REL, abs=1e-12)


@pytest.fixture(scope="module")
def apistrat(api_dir):
    return read_csv(api_dir / "apistrat.csv")


@pytest.fixture(scope="module")
def apiclus1(api_dir):
    return read_csv(api_dir / "apiclus1.csv")


@pytest.fixture(scope="module")
def apiclus2(api_dir):
    return read_csv(api_dir / "apiclus2.csv")


def dstrat(t, fpc="fpc"):
    f = t.numeric("fpc") if fpc == "fpc" else 1 / t.numeric("pw")
    return make_design(t.n, weights=t.numeric("pw"), strata=t.categorical("stype"), fpc=[f])


def test_published_stratified_mean_is_662_29_se_9_4089(apistrat):
    # svymean(~api00, dstrat): 662.29 (SE 9.4089), DESIGN.md §4 / survey's own tests
    r = E.mean(dstrat(apistrat), apistrat.numeric("api00"))
    assert round(r.estimate[0, 0], 2) == 662.29
    assert round(r.se[0, 0], 4) == 9.4089


def test_published_cluster_mean_is_644_17_se_23_542(apiclus1):
    d = make_design(apiclus1.n, weights=apiclus1.numeric("pw"),
                    clusters=[apiclus1.categorical("dnum")], fpc=[apiclus1.numeric("fpc")])
    r = E.mean(d, apiclus1.numeric("api00"))
    assert round(r.estimate[0, 0], 2) == 644.17
    assert round(r.se[0, 0], 3) == 23.542


def test_published_logit_ci_for_sch_wide(apiclus1):
    # svyciprop(~I(sch.wide=="Yes"), dclus1) = 0.8743169 (0.8237989, 0.9119001), df 14
    row = _schwide(apiclus1, "logit")[0]
    assert row.estimate == pytest.approx(0.8743169, abs=5e-8)
    assert row.ci_low == pytest.approx(0.8237989, abs=5e-8)
    assert row.ci_high == pytest.approx(0.9119001, abs=5e-8)
    assert row.df == 14


@pytest.mark.parametrize("key,fpc", [("dstrat", "fpc"), ("dfrac", "frac")])
def test_fpc_as_sizes_or_fractions_match_r(apistrat, r_expected, key, fpc):
    r = E.mean(dstrat(apistrat, fpc), apistrat.numeric("api00"))
    assert close(r.estimate[0, 0], r_expected[f"{key}.api00.est"])
    assert close(r.se[0, 0], r_expected[f"{key}.api00.se"])


def test_mean_deff_total_and_ratio_match_r(apistrat, r_expected):
    d = dstrat(apistrat)
    m = E.mean(d, apistrat.numeric("api00"))
    assert close(m.deff[0, 0], r_expected["dstrat.api00.deff"])
    t = E.total(d, apistrat.numeric("enroll"))
    assert close(t.estimate[0, 0], r_expected["dstrat.enroll.total.est"])
    assert close(t.se[0, 0], r_expected["dstrat.enroll.total.se"])
    assert close(t.deff[0, 0], r_expected["dstrat.enroll.total.deff"])
    q = E.ratio(d, apistrat.numeric("api00"), apistrat.numeric("api99"))
    assert close(q.estimate[0, 0], r_expected["dstrat.ratio.est"])
    assert close(q.se[0, 0], r_expected["dstrat.ratio.se"])


def _schwide(t, method, by=None):
    d = make_design(t.n, weights=t.numeric("pw"), clusters=[t.categorical("dnum")],
                    fpc=[t.numeric("fpc")])
    sw = t.categorical("sch.wide")
    yes = np.where(np.array(sw.labels)[sw.codes] == "Yes", 1.0, 0.0)
    dom = Domains.of("stype", t.categorical("stype")) if by else Domains(None, None, ())
    res = run(d, [satisfied_indicator("sw", yes, [1], [0, 1])], dom.codes, len(dom.labels))
    return to_rows(res, ["sw"], dom, [True], method)


@pytest.mark.parametrize("method", ["logit", "mean", "asin", "beta"])
def test_each_ci_method_matches_svyciprop(apiclus1, r_expected, method):
    row = _schwide(apiclus1, method)[0]
    key = f"dclus1.schwide.{method}"
    assert close(row.estimate, r_expected[key + ".est"])
    assert close(row.ci_low, r_expected[key + ".low"])
    assert close(row.ci_high, r_expected[key + ".high"])
    assert row.df == r_expected[key + ".df"]


def test_logit_equals_rs_xlogit(apiclus1, r_expected):
    row = _schwide(apiclus1, "logit")[0]
    assert close(row.ci_low, r_expected["dclus1.schwide.xlogit.low"])


@pytest.mark.parametrize("method", ["logit", "beta", "asin", "mean"])
def test_domain_cis_use_each_domains_own_df(apiclus1, r_expected, method):
    rows = _schwide(apiclus1, method, by=True)[1:]
    for row in rows:
        key = f"dclus1.schwide.{row.domain['stype']}.{method}"
        assert row.df == r_expected[key + ".df"]
        assert close(row.ci_low, r_expected[key + ".low"])
        assert close(row.ci_high, r_expected[key + ".high"])


def test_domain_means_and_df_match_svyby(apiclus1, r_expected):
    d = make_design(apiclus1.n, weights=apiclus1.numeric("pw"),
                    clusters=[apiclus1.categorical("dnum")], fpc=[apiclus1.numeric("fpc")])
    dom = Domains.of("stype", apiclus1.categorical("stype"))
    r = E.mean(d, apiclus1.numeric("api00"), dom)
    for i, s in enumerate(dom.labels, start=1):
        assert close(r.estimate[i, 0], r_expected[f"dclus1.api00.{s}.est"])
        assert close(r.se[i, 0], r_expected[f"dclus1.api00.{s}.se"])
        assert close(r.deff[i, 0], r_expected[f"dclus1.api00.{s}.deff"])
        assert r.df[i, 0] == r_expected[f"dclus1.api00.{s}.df"]


def test_missing_answers_are_a_domain_not_dropped_rows(apistrat, r_expected):
    dom = Domains.of("stype", apistrat.categorical("stype"))
    r = E.mean(dstrat(apistrat), apistrat.numeric("acs.k3"), dom)
    assert np.isnan(r.estimate[3, 0])  # middle schools: no valid acs.k3 at all
    for i, s in [(0, "all"), (1, "E")]:
        assert close(r.estimate[i, 0], r_expected[f"dstrat.acsk3.{s}.est"])
        assert close(r.se[i, 0], r_expected[f"dstrat.acsk3.{s}.se"])
        assert close(r.deff[i, 0], r_expected[f"dstrat.acsk3.{s}.deff"])
        assert r.df[i, 0] == r_expected[f"dstrat.acsk3.{s}.df"]


@pytest.mark.parametrize("weighted", [False, True])
def test_two_stage_design_with_fpc_at_both_stages(apiclus2, r_expected, weighted):
    t = apiclus2
    d = make_design(t.n, weights=t.numeric("pw") if weighted else None,
                    clusters=[t.categorical("dnum"), t.categorical("snum")],
                    fpc=[t.numeric("fpc1"), t.numeric("fpc2")])
    key = "dclus2w" if weighted else "dclus2"
    r = E.mean(d, t.numeric("api00"))
    assert close(r.estimate[0, 0], r_expected[f"{key}.api00.est"])
    assert close(r.se[0, 0], r_expected[f"{key}.api00.se"])
    if not weighted:
        assert close(r.deff[0, 0], r_expected["dclus2.api00.deff"])
        tot = E.total(d, t.numeric("enroll"))
        assert close(tot.estimate[0, 0], r_expected["dclus2.enroll.total.est"])
        assert close(tot.se[0, 0], r_expected["dclus2.enroll.total.se"])
        dom = Domains.of("stype", t.categorical("stype"))
        by = E.mean(d, t.numeric("api00"), dom)
        for i, s in enumerate(dom.labels, start=1):
            assert close(by.se[i, 0], r_expected[f"dclus2.api00.{s}.se"])
            assert by.df[i, 0] == r_expected[f"dclus2.api00.{s}.df"]


def test_nest_true_makes_psu_ids_unique_within_strata(apiclus1, r_expected):
    t = apiclus1
    d = make_design(t.n, weights=t.numeric("pw"), strata=t.categorical("stype"),
                    clusters=[t.categorical("dnum")], nest=True, lonely_psu="adjust")
    r = E.mean(d, t.numeric("api00"))
    assert close(r.se[0, 0], r_expected["dnest.api00.se"])
    assert d.degf() == r_expected["dnest.df"]


def test_repeated_psu_ids_across_strata_without_nest_are_refused(apiclus1):
    t = apiclus1
    with pytest.raises(ValueError, match="nest"):
        make_design(t.n, weights=t.numeric("pw"), strata=t.categorical("stype"),
                    clusters=[t.categorical("dnum")])
