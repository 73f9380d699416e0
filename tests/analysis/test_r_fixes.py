"""Five places where SIPAS and R's survey package differed (issue 19), each against R.

Values are pinned by ``reference/issue19_fixes.R`` in ``reference/issue19_expected.csv``
(key, value, the R call); relative tolerance 1e-6.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from analysis import estimate as E
from analysis.cli import (
    association_command,
    compare_command,
    estimate_command,
    index_command,
    model_command,
    quantile_command,
    replicates_command,
)
from analysis.design import make_design
from analysis.io import read_csv

REF = Path(__file__).resolve().parent / "reference"
SMALL = REF / "sipas_small.csv"
ITEMS = ("I1", "I2", "I3", "II1", "II2", "V1", "V2")
ELEMENTS = ["--element", "I=I1,I2,I3", "--element", "II=II1,II2", "--element", "V=V1,V2"]


@pytest.fixture(scope="module")
def expected() -> dict[str, float]:
    with (REF / "issue19_expected.csv").open(encoding="utf-8") as fh:
        return {row["key"]: float(row["value"]) for row in csv.DictReader(fh)}


def close(actual: float | None, wanted: float) -> bool:
    return actual is not None and actual == pytest.approx(wanted, rel=1e-6, abs=1e-12)


def run_cli(command, args) -> dict:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(command, [str(a) for a in args] + ["--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_an_se_r_cannot_compute_is_null_in_json_and_empty_in_csv(tmp_path: Path) -> None:
    """Two stages with fpc, one household alone in its PSU, lonely.psu = 'average'.

    R: ``svymean(~q2, svydesign(id=~psu+hh, strata=~stratum, fpc=~fpc1+fpc2))`` gives
    SE NaN under ``options(survey.lonely.psu = "average")``. Before: a crash ("Out of range
    float values are not JSON compliant: nan") and ``nan`` in the CSV.
    """
    lines = ["stratum,psu,hh,fpc1,fpc2,q1,q2"]
    for s in ("S1", "S2"):
        for p in range(3):
            for h in range(1 if (s, p) == ("S1", 0) else 3):
                lines.append(f"{s},{s}P{p},{s}P{p}H{h},10,20,{(p + h) % 5 + 1},{4 + h % 2}")
    data = tmp_path / "two.csv"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = [data, "--element", "A=q1,q2", "--strata", "stratum", "--psu", "psu,hh",
            "--fpc", "fpc1,fpc2", "--lonely-psu", "average"]
    body = run_cli(index_command, args)
    rows = body["estimates"]
    assert rows and all(r["se"] is None and r["ci_low"] is None for r in rows)
    assert all(r["estimate"] is not None for r in rows)
    criteria = [r for r in rows if r["level"] == "criterion"]
    assert criteria and all(r["mean_score_se"] is None and r["dissatisfied_se"] is None
                            for r in criteria)
    assert "R gives NaN too" in criteria[0]["note"]
    table = CliRunner().invoke(index_command, [str(a) for a in args] + ["--format", "csv"])
    assert table.exit_code == 0
    cells = [c for line in csv.reader(table.output.splitlines()) for c in line]
    assert len(cells) > 20 and not any(c.lower() in ("nan", "inf", "-inf") for c in cells)


def test_criteria_under_average_count_the_domains_strata_as_svyratio(expected) -> None:
    """R: ``svyratio(~s_k, ~v_k, subset(dl, domain))`` under lonely.psu = 'average'. Before,
    the strata came from the valid answers: SEs differed by √(H/(H−1)) where a stratum had
    rows in the domain but no valid answer (stratum S2 and element V in this file)."""
    body = run_cli(index_command, [REF / "issue19_average.csv", *ELEMENTS, "--weight",
                                   "weight", "--strata", "stratum", "--psu", "psu", "--by",
                                   "district", "--lonely-psu", "average"])
    checked = 0
    for row in body["estimates"]:
        if row["level"] != "criterion":
            continue
        dom = row["domain"].get("district", "all") if row["domain"] else "all"
        key = f"average.{dom}.{row['indicator']}"
        if f"{key}.est" not in expected:
            assert row["n"] == 0
            continue
        assert close(row["estimate"], expected[f"{key}.est"]), key
        assert close(row["se"], expected[f"{key}.se"]), key
        checked += 1
    assert checked == sum(1 for k in expected if k.startswith("average.") and k.endswith(".se"))


def test_beta_interval_on_a_calibrated_design_counts_every_row_as_r(expected) -> None:
    """R: ``svyciprop(~y, subset(rake(ds, ...), domain & valid), method = "beta")`` scales
    n_eff with ``qt(, nrow(design) − 1)``, and a subset of a calibrated design keeps all
    196 rows. Before, SIPAS used the domain's valid answers there."""
    body = run_cli(estimate_command, [SMALL, "--var", "I1", "--satisfied", "4,5", "--weight",
                                      "weight", "--strata", "stratum2", "--psu", "psu",
                                      "--by", "district", "--rake",
                                      REF / "issue19_margins.csv", "--ci", "beta"])
    assert len(body["estimates"]) == 4
    for row in body["estimates"]:
        dom = row["domain"].get("district", "all") if row["domain"] else "all"
        assert close(row["estimate"], expected[f"beta.{dom}.est"]), dom
        assert close(row["ci_low"], expected[f"beta.{dom}.low"]), dom
        assert close(row["ci_high"], expected[f"beta.{dom}.high"]), dom


def test_design_effect_of_a_ratio_with_a_non_0_1_denominator(api_dir, expected) -> None:
    """R: ``svyratio(~api00, ~enroll, dstrat, deff = "replace")``: 0.4228 (SIPAS gave a
    variance of the wrong quantity under SRS when the denominator was not 0/1)."""
    t = read_csv(api_dir / "apistrat.csv")
    d = make_design(t.n, weights=t.numeric("pw"), strata=t.categorical("stype"),
                    fpc=[t.numeric("fpc")])
    q = E.ratio(d, t.numeric("api00"), t.numeric("enroll"))
    assert close(float(q.estimate[0, 0]), expected["ratio.api00.enroll.est"])
    assert close(float(q.se[0, 0]), expected["ratio.api00.enroll.se"])
    assert close(float(q.deff[0, 0]), expected["ratio.api00.enroll.deff"])
    q = E.ratio(d, t.numeric("api00"), t.numeric("api99"))
    assert close(float(q.deff[0, 0]), expected["ratio.api00.api99.deff"])
    by = E.Domains.of("stype", t.categorical("stype"))
    q = E.ratio(d, t.numeric("api00"), t.numeric("enroll"), by)
    for i, label in enumerate(by.labels, start=1):
        assert close(float(q.deff[i, 0]), expected[f"ratio.{label}.deff"]), label


def test_the_mean_of_a_coded_item_leaves_its_no_answer_code_out(expected) -> None:
    """R: ``svymean(~I1v, subset(dn, I1 %in% 1:5))`` on the export's coding (9 = no
    answer, 21 of them). ``--valid`` now works without ``--satisfied``."""
    assert expected["mean.I1.nines"] == 21
    args = [REF / "issue19_nines.csv", "--var", "I1", "--weight", "weight", "--strata",
            "stratum2", "--psu", "psu"]
    row = run_cli(estimate_command, [*args, "--valid", "1,2,3,4,5"])["estimates"][0]
    assert close(row["estimate"], expected["mean.I1.valid.est"])
    assert close(row["se"], expected["mean.I1.valid.se"])
    assert row["n"] == 196 - 21
    plain = run_cli(estimate_command, args)["estimates"][0]  # every value: 9 counts, said
    assert plain["estimate"] > row["estimate"] and plain["n"] == 196
    assert "--valid 1,2,3,4,5" in plain["note"]
    assert "--valid" not in (row["note"] or "")
    median = run_cli(quantile_command, args)["quantiles"][0]  # a median counts the 9 too
    assert "--valid 1,2,3,4,5" in median["note"]
    kept = run_cli(quantile_command, [*args, "--valid", "1,2,3,4,5"])["quantiles"][0]
    assert "--valid" not in kept["note"] and kept["n"] == 196 - 21


@pytest.mark.parametrize("design", ["fpc", "rake"])
@pytest.mark.parametrize("what", ["share", "mean"])
def test_differences_between_districts_match_svycontrast(expected, design: str,
                                                        what: str) -> None:
    """R: ``svycontrast(svyratio(~y_D1 + ..., ~v_D1 + ..., design, covmat = TRUE), D1 − D2)``
    (domains as variables zero outside them: the estimator of ``svyby(..., covmat = TRUE)``,
    which fails on a calibrated design in survey 4.1-1). Strata, PSUs and fpc; and raked."""
    args = [REF / "issue19_compare.csv", "--weight", "weight", "--strata", "stratum2",
            "--psu", "psu", "--by", "district"]
    args += ["--fpc", "fpc2"] if design == "fpc" else ["--rake", REF / "issue19_margins.csv"]
    args += ["--var", "I1", "--satisfied", "4,5"] if what == "share" else ["--var", "I2"]
    rows = run_cli(compare_command, args)["differences"]
    assert [(r["first"], r["second"]) for r in rows] == [("D1", "D2"), ("D1", "D3"),
                                                         ("D2", "D3")]
    for row in rows:
        key = f"compare.{design}.{row['first']}-{row['second']}.{what}"
        assert close(row["difference"], expected[f"{key}.est"]), key
        assert close(row["se"], expected[f"{key}.se"]), key
        assert row["df"] == expected[f"compare.{design}.degf"]
        assert row["difference"] == pytest.approx(row["estimate_first"]
                                                  - row["estimate_second"])
        inside = row["ci_low"] < 0 < row["ci_high"]
        assert row["verdict"] == ("cannot be told apart" if inside else
                                  "higher" if row["ci_low"] > 0 else "lower")


def test_a_round_against_the_previous_is_two_independent_samples(tmp_path: Path) -> None:
    """Two files, two designs: SE = √(SE₁² + SE₂²) of the two rounds' own estimates, df the
    smaller; a domain present in both is compared, the others are left out."""
    design = ["--weight", "weight", "--strata", "stratum2", "--psu", "psu", "--by",
              "district", "--var", "I1", "--satisfied", "4,5"]
    lines = SMALL.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    at = header.index("I1")
    shifted = [lines[0]] + [",".join(c if k != at or c in ("", "5") else str(int(c) + 1)
                                     for k, c in enumerate(line.split(",")))
                            for line in lines[1:]]
    new = tmp_path / "new.csv"
    new.write_text("\n".join(shifted) + "\n", encoding="utf-8")
    rows = run_cli(compare_command, [new, *design, "--previous", SMALL])["differences"]
    ones = {r["domain"].get("district", "all") if r["domain"] else "all": r for r in
            run_cli(estimate_command, [new, *design])["estimates"]}
    twos = {r["domain"].get("district", "all") if r["domain"] else "all": r for r in
            run_cli(estimate_command, [SMALL, *design])["estimates"]}
    assert len(rows) == 4
    for row, key in zip(rows, ["all", "D1", "D2", "D3"], strict=True):
        a, b = ones[key], twos[key]
        assert row["difference"] == pytest.approx(a["estimate"] - b["estimate"], rel=1e-12)
        assert row["se"] == pytest.approx((a["se"] ** 2 + b["se"] ** 2) ** 0.5, rel=1e-12)
        assert row["df"] == min(a["df"], b["df"])
    assert rows[0]["verdict"] == "higher"  # every answer of 1-4 moved up one code


@pytest.mark.parametrize("design", ["fpc", "rake"])
def test_quantiles_and_their_intervals_match_svyquantile(expected, design: str) -> None:
    """R: ``svyquantile(~minutes, design, quantiles = c(.25, .5, .9), ci = TRUE,
    na.rm = TRUE)`` (qrule "math", Woodruff interval) overall, and the median of each
    district's subset; strata, PSUs and fpc, and raked."""
    args = [REF / "issue19_compare.csv", "--var", "minutes", "--quantiles", "0.25,0.5,0.9",
            "--weight", "weight", "--strata", "stratum2", "--psu", "psu", "--by", "district"]
    args += ["--fpc", "fpc2"] if design == "fpc" else ["--rake", REF / "issue19_margins.csv"]
    rows = run_cli(quantile_command, args)["quantiles"]
    checked = 0
    for row in rows:
        dom = row["domain"].get("district", "all") if row["domain"] else "all"
        key = f"quantile.{design}.{dom}.{row['p']:g}"
        if f"{key}.q" not in expected:
            continue
        for field, suffix in (("quantile", "q"), ("ci_low", "low"), ("ci_high", "high"),
                              ("se", "se")):
            assert close(row[field], expected[f"{key}.{suffix}"]), (key, field)
        checked += 1
    assert checked == 6


def test_quantile_rule_is_rs_including_below_the_first_share() -> None:
    """R: ``survey:::qrule_math(c(1, 2, 3), c(5, 1, 1), p)``: 2 at p = 0.1 (R's rule when
    p is below the first value's share), 1 at p = 5/7 (exactly on it), 3 at p = 0.9."""
    import numpy as np

    from analysis.quantiles import quantile_rule

    x, w = np.array([3.0, 1.0, 2.0]), np.array([1.0, 5.0, 1.0])
    assert quantile_rule(x, w, 0.1) == 2 and quantile_rule(x, w, 5 / 7) == 1
    assert quantile_rule(x, w, 0.9) == 3
    assert np.isnan(quantile_rule(x, np.zeros(3), 0.5))


@pytest.mark.parametrize("design", ["fpc", "rake"])
def test_logistic_regression_matches_svyglm(expected, design: str) -> None:
    """R: ``svyglm(sat1 ~ district + minutes, design, family = quasibinomial())``: the
    coefficients, ``summary()``'s SEs and p-values, ``confint()`` and ``df.residual``;
    strata, PSUs and fpc, and raked. Rows without a valid I1 or minutes leave the model."""
    import math

    args = [REF / "issue19_compare.csv", "--outcome", "I1", "--predictor", "district",
            "--predictor", "minutes", "--weight", "weight", "--strata", "stratum2",
            "--psu", "psu"]
    args += ["--fpc", "fpc2"] if design == "fpc" else ["--rake", REF / "issue19_margins.csv"]
    body = run_cli(model_command, args)
    assert body["design"]["df_residual"] == expected[f"model.{design}.df"]
    terms = [c["term"] for c in body["coefficients"]]
    assert terms == ["(Intercept)", "districtD2", "districtD3", "minutes"]
    for c in body["coefficients"]:
        key = f"model.{design}.{c['term']}"
        for field, suffix in (("estimate", "est"), ("se", "se"), ("p_value", "p"),
                              ("ci_low", "low"), ("ci_high", "high")):
            assert close(c[field], expected[f"{key}.{suffix}"]), (key, field)
        assert c["odds_ratio"] == pytest.approx(math.exp(c["estimate"]), rel=1e-12)
        assert c["or_low"] == pytest.approx(math.exp(c["ci_low"]), rel=1e-12)


@pytest.mark.parametrize("design", ["fpc", "rake"])
@pytest.mark.parametrize("what", ["satf", "I2f"])
def test_rao_scott_association_matches_svychisq(expected, design: str, what: str) -> None:
    """R: ``svychisq(~satf + district, design)`` (satisfied or not) and ``~I2f + district``
    (five answer codes): Rao–Scott F, its two df and p; strata, PSUs and fpc, and raked."""
    args = [REF / "issue19_compare.csv", "--by", "district", "--weight", "weight",
            "--strata", "stratum2", "--psu", "psu"]
    args += ["--fpc", "fpc2"] if design == "fpc" else ["--rake", REF / "issue19_margins.csv"]
    args += ["--var", "I1", "--satisfied", "4,5"] if what == "satf" else ["--var", "I2"]
    test = run_cli(association_command, args)["test"]
    key = f"assoc.{design}.{what}"
    for field, suffix in (("f", "f"), ("ndf", "ndf"), ("ddf", "ddf"), ("p_value", "p")):
        assert close(test[field], expected[f"{key}.{suffix}"]), (key, field)
    assert all(abs(sum(col) - 1) < 1e-12 for col in zip(*test["shares"], strict=True))


def test_jackknife_replicate_weights_give_rs_jkn_ses(expected, tmp_path: Path) -> None:
    """R: ``as.svrepdesign(svydesign(..., fpc = ~fpc2), type = "JKn")`` then ``svyratio``
    and ``svyby``: the file written without strata, PSU and fpc gives the same SEs."""
    out = tmp_path / "release.csv"
    made = CliRunner().invoke(replicates_command, [
        str(REF / "issue19_compare.csv"), "--weight", "weight", "--strata", "stratum2",
        "--psu", "psu", "--fpc", "fpc2", "--out", str(out)])
    assert made.exit_code == 0, made.output
    header = out.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert not {"stratum2", "psu", "fpc2"} & set(header)
    assert sum(h.startswith("rep_") for h in header) == expected["rep.jkn.count"]
    rows = run_cli(estimate_command, [out, "--var", "I1", "--satisfied", "4,5", "--weight",
                                      "weight", "--repweights", "rep_", "--by",
                                      "district"])["estimates"]
    for row in rows:
        dom = row["domain"].get("district") if row["domain"] else None
        key = "rep.jkn.share.se" if dom is None else f"rep.jkn.share.{dom}.se"
        assert close(row["se"], expected[key]), key
    mean = run_cli(estimate_command, [out, "--var", "I2", "--weight", "weight",
                                      "--repweights", "rep_"])["estimates"][0]
    assert close(mean["se"], expected["rep.jkn.mean.se"])


def test_estimates_from_rs_bootstrap_weights_give_rs_ses(expected) -> None:
    """R made the weights (``as.svrepdesign(type = "bootstrap", replicates = 40)``, seed
    2026) and its scale; SIPAS reading them gives R's SEs."""
    data = REF / "issue19_boot.csv"
    rows = run_cli(estimate_command, [data, "--var", "I1", "--satisfied", "4,5", "--weight",
                                      "weight", "--repweights", "boot_", "--by",
                                      "district"])["estimates"]
    for row in rows:
        dom = row["domain"].get("district") if row["domain"] else None
        key = "rep.boot.share.se" if dom is None else f"rep.boot.share.{dom}.se"
        assert close(row["se"], expected[key]), key
    mean = run_cli(estimate_command, [data, "--var", "I2", "--weight", "weight",
                                      "--repweights", "boot_"])["estimates"][0]
    assert close(mean["se"], expected["rep.boot.mean.se"])


def test_our_bootstrap_resamples_each_strata_psus_and_agrees_with_linearisation() -> None:
    """Each replicate draws n_h PSUs in every stratum; with 2,000 replicates the SE of the
    share satisfied is within 10 % of the linearised one (seeded: the same file each run)."""
    import numpy as np

    from analysis.engine import run
    from analysis.estimate import satisfied_indicator
    from analysis.replicates import bootstrap, ratio_replicates, replicate_variance

    t = read_csv(REF / "issue19_compare.csv")
    d = make_design(t.n, weights=t.numeric("weight"), strata=t.categorical("stratum2"),
                    clusters=[t.categorical("psu")])
    reps = bootstrap(d, 2000, seed=7)
    stage = d.stages[0]
    for h in range(stage.n_parents):
        mine = stage.parent == h
        assert np.all(reps.multipliers[mine].sum(axis=0) == mine.sum())
    assert np.array_equal(reps.multipliers, bootstrap(d, 2000, seed=7).multipliers)
    ind = satisfied_indicator("I1", t.numeric("I1"), [4, 5], [1, 2, 3, 4, 5])
    a, b, valid = ind.row_values()
    thetas = ratio_replicates(reps.weights(d.weights), a, b, valid)
    se = float(np.sqrt(replicate_variance(thetas[:, None], reps.scale, reps.rscales)[0]))
    linear = float(run(d, [ind]).se[0, 0])
    assert abs(se / linear - 1) < 0.10, (se, linear)


@pytest.mark.parametrize("design", ["plain", "fpc"])
def test_each_districts_index_against_the_whole_matches_svycontrast(
        expected, design: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """R: the overall SIPAS index of district D minus the province's, ``svycontrast`` of one
    ``svyratio(~s_item_group ..., ~v_item_group ..., covmat = TRUE)`` over the criteria of
    every group, with the index's weights (criteria present in the group, elements
    present). The district is part of the whole; districts are made of whole PSUs."""
    import numpy as np

    from analysis import compare
    from analysis.compare import index_against_whole

    if design == "fpc":
        monkeypatch.setattr(compare, "CHUNK", 2)  # domains in blocks: 2 + 1

    t = read_csv(REF / "issue19_nested.csv")
    d = make_design(t.n, weights=t.numeric("weight"), strata=t.categorical("stratum2"),
                    clusters=[t.categorical("psu")],
                    fpc=[t.numeric("fpc2")] if design == "fpc" else ())
    key = "whole." if design == "plain" else "whole.fpc."
    elements = [("I1", "I2", "I3"), ("II1", "II2"), ("V1", "V2")]
    answers = {c: t.numeric(c) for e in elements for c in e}
    district = t.categorical("district")
    rows = index_against_whole(d, answers, elements, (4, 5), (1, 2, 3, 4, 5), district.codes,
                               district.labels, np.ones(t.n, dtype=bool), "province")
    assert [r.first for r in rows] == ["D1", "D2", "D3"]
    for row in rows:
        assert close(row.difference, expected[f"{key}{row.first}.est"]), row.first
        assert close(row.se, expected[f"{key}{row.first}.se"]), row.first
        assert row.df == expected[f"{key}degf"] and row.second == "province"


def test_replicates_of_a_raked_design_are_raked_as_r(expected, tmp_path: Path) -> None:
    """R: ``rake(as.svrepdesign(ds, type = "JKn"), list(~district, ~stratum2), ...)``: each
    replicate raked as the full sample; the file carries the raked weight."""
    out = tmp_path / "raked.csv"
    made = CliRunner().invoke(replicates_command, [
        str(REF / "issue19_compare.csv"), "--weight", "weight", "--strata", "stratum2",
        "--psu", "psu", "--rake", str(REF / "issue19_margins.csv"), "--out", str(out)])
    assert made.exit_code == 0, made.output
    rows = run_cli(estimate_command, [out, "--var", "I1", "--satisfied", "4,5", "--weight",
                                      "weight", "--repweights", "rep_", "--by",
                                      "district"])["estimates"]
    assert close(rows[0]["estimate"], expected["rep.jknrake.share.est"])
    for row in rows:
        dom = row["domain"].get("district") if row["domain"] else None
        key = "rep.jknrake.share.se" if dom is None else f"rep.jknrake.share.{dom}.se"
        assert close(row["se"], expected[key]), key
