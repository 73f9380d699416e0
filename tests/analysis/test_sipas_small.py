"""Lonely PSUs and the SIPAS index on the synthetic sample, against R (rel 1e-6).

Expected values: reference/r_expected.csv, written by reference/r_reference.R from
reference/sipas_small.csv (R call beside each value in that file).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.design import make_design
from analysis.engine import run
from analysis.estimate import Domains, satisfied_indicator
from analysis.index import Element, sipas_index
from analysis.io import read_csv

REL = 1e-6
SMALL = Path(__file__).resolve().parent / "reference" / "sipas_small.csv"
ELEMENTS = [Element("I", ("I1", "I2", "I3")), Element("II", ("II1", "II2")),
            Element("V", ("V1", "V2"))]


@pytest.fixture(scope="module")
def small():
    return read_csv(SMALL, text_columns=["stratum", "stratum2", "psu", "district"])


def lonely_design(t, policy, fpc=False):
    return make_design(t.n, weights=t.numeric("weight"), strata=t.categorical("stratum"),
                       clusters=[t.categorical("psu")], lonely_psu=policy,
                       fpc=[t.numeric("fpc")] if fpc else [])


def test_lonely_psu_under_fail_names_its_stratum(small):
    d = lonely_design(small, "fail")
    ind = satisfied_indicator("I1", small.numeric("I1"), [4, 5], [1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match=r"Stratum \(S6\) has only one PSU at stage 1"):
        run(d, [ind])


@pytest.mark.parametrize("policy", ["remove", "certainty", "adjust", "average"])
def test_each_lonely_psu_policy_matches_r_overall_and_by_domain(small, r_expected, policy):
    d = lonely_design(small, policy)
    dom = Domains.of("district", small.categorical("district"))
    ind = satisfied_indicator("I1", small.numeric("I1"), [4, 5], [1, 2, 3, 4, 5])
    res = run(d, [ind], dom.codes, len(dom.labels))
    for i, name in enumerate(["all", *dom.labels]):
        key = f"lonely.{policy}.{name}"
        assert res.estimate[i, 0] == pytest.approx(r_expected[key + ".est"], rel=REL)
        assert res.se[i, 0] == pytest.approx(r_expected[key + ".se"], rel=REL)
        assert res.df[i, 0] == r_expected[key + ".df"]


@pytest.mark.parametrize("policy", ["certainty", "adjust", "average"])
def test_lonely_policies_with_an_fpc_match_r(small, r_expected, policy):
    d = lonely_design(small, policy, fpc=True)
    ind = satisfied_indicator("I1", small.numeric("I1"), [4, 5], [1, 2, 3, 4, 5])
    res = run(d, [ind])
    assert res.se[0, 0] == pytest.approx(r_expected[f"lonelyfpc.{policy}.se"], rel=REL)


@pytest.fixture(scope="module")
def index_rows(small):
    d = make_design(small.n, weights=small.numeric("weight"),
                    strata=small.categorical("stratum2"), clusters=[small.categorical("psu")])
    answers = {c: small.numeric(c) for e in ELEMENTS for c in e.items}
    dom = Domains.of("district", small.categorical("district"))
    return sipas_index(d, answers, ELEMENTS, dom)


def _key(row) -> str:
    return f"index.{row.domain.get('district', 'all')}.{row.name}"


def test_criterion_indices_match_svyratio(index_rows, r_expected):
    checked = 0
    for row in index_rows:
        if row.level != "criterion" or row.n == 0:
            continue
        k = _key(row)
        assert row.estimate == pytest.approx(r_expected[k + ".est"], rel=REL)
        assert row.se == pytest.approx(r_expected[k + ".se"], rel=REL)
        assert row.df == r_expected[k + ".df"]
        assert row.extra["mean_score"] == pytest.approx(r_expected[k + ".m.est"], rel=REL)
        assert row.extra["mean_score_se"] == pytest.approx(r_expected[k + ".m.se"], rel=REL)
        assert row.extra["dissatisfied"] == pytest.approx(r_expected[k + ".d.est"], rel=REL)
        assert row.extra["dissatisfied_se"] == pytest.approx(r_expected[k + ".d.se"], rel=REL)
        checked += 1
    assert checked == 7 * 3 + 5  # element V has no answers in D3


def test_element_and_overall_indices_match_svycontrast(index_rows, r_expected):
    checked = 0
    for row in index_rows:
        if row.level == "criterion" or row.n == 0:
            continue
        k = _key(row)
        assert row.estimate == pytest.approx(r_expected[k + ".est"], rel=REL)
        assert row.se == pytest.approx(r_expected[k + ".se"], rel=REL)
        assert row.df == r_expected[k + ".df"]
        assert row.ci_low == pytest.approx(r_expected[k + ".low"], rel=REL)
        assert row.ci_high == pytest.approx(r_expected[k + ".high"], rel=REL)
        checked += 1
    assert checked == 4 * 4 - 1


def test_overall_names_the_element_without_answers(index_rows):
    d3 = [r for r in index_rows if r.domain.get("district") == "D3"]
    overall = next(r for r in d3 if r.level == "overall")
    assert "V" in overall.note
    v = next(r for r in d3 if r.name == "V")
    assert v.estimate is None and v.n == 0


@pytest.mark.parametrize("district", ["D1", "D2"])
def test_within_gives_one_districts_index_as_r_subset(district, r_expected):
    """``sipas index --within district=D1`` is R's ``subset(ds, district == "D1")`` (values
    in r_expected.csv, the R call beside each): a domain of the whole design (its df is the
    subset's), and nothing of the other districts or of the whole sample is printed."""
    import json

    from click.testing import CliRunner

    from analysis.cli import index_command

    args = [str(SMALL), "--weight", "weight", "--strata", "stratum2", "--psu", "psu",
            "--within", f"district={district}", "--format", "json"]
    for e in ELEMENTS:
        args += ["--element", f"{e.name}={','.join(e.items)}"]
    done = CliRunner().invoke(index_command, args)
    assert done.exit_code == 0, done.output
    printed = json.loads(done.output)
    rows = printed["estimates"]
    assert printed["design"]["within"] == {"district": district}
    assert {json.dumps(r["domain"]) for r in rows} == {json.dumps({"district": district})}
    checked = 0
    for row in rows:
        k = f"index.{district}.{row['indicator']}"
        if row["n"] == 0:
            continue
        assert row["estimate"] == pytest.approx(r_expected[k + ".est"], rel=REL)
        assert row["se"] == pytest.approx(r_expected[k + ".se"], rel=REL)
        assert row["df"] == r_expected[k + ".df"]
        checked += 1
    assert checked == 7 + 3 + 1  # every criterion, element and the overall index
    none = CliRunner().invoke(index_command, [*args[:-4], "--within", "district=D9"])
    assert none.exit_code == 1 and "no rows have district = 'D9'" in none.output
    bad = CliRunner().invoke(index_command, [*args[:-4], "--within", "district"])
    assert bad.exit_code == 1 and "--within takes COL=VALUE" in bad.output
