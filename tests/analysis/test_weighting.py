"""Post-stratification, raking and nonresponse adjustment against R survey 4.1.

Expected values come from ``tests/analysis/reference/weighting.R`` (pinned in
``weighting_expected.json`` next to it, each case with its R call).  Tolerance: relative
1e-6 everywhere.  The SEs here use a small independent stage-1 variance
(:func:`stage1_vcov`) so these tests check the calibration residualisation on its own;
``test_does_the_engine_give_r_se_after_calibration`` then checks the same cases end to end
through helper-1's engine (``analysis.design.make_design`` + ``analysis.engine.run``).
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from analysis.weighting import (
    RakingNotConvergedWarning,
    nonresponse_adjust,
    poststratify,
    poststratify_from_csv,
    rake,
    rake_from_csv,
    totals_columns,
)

REL = 1e-6
EXPECTED = json.loads(
    (Path(__file__).parent / "reference" / "weighting_expected.json").read_text("utf-8")
)
CASES = EXPECTED["cases"]
POP = EXPECTED["populations"]
JOINT = {(r["stype"], r["sch.wide"]): r["Freq"] for r in POP["stype_sch.wide"]}


API = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "api"


@functools.cache
def load_api(name: str) -> dict[str, np.ndarray]:
    """One of R's api data sets as columns: floats where numeric (NA → nan), else strings."""
    path = API / f"{name}.csv"
    if not path.exists():
        if os.environ.get("CI") == "true":
            raise FileNotFoundError(f"{path} is required under CI")
        pytest.skip(f"reference data {path} absent (clone shared/ beside the repo)")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    columns: dict[str, np.ndarray] = {}
    for j, name_j in enumerate(rows[0]):
        values = [r[j] for r in rows[1:]]
        try:
            columns[name_j] = np.array([np.nan if v == "NA" else float(v) for v in values])
        except ValueError:
            columns[name_j] = np.array(values, dtype=object)
        columns[name_j].flags.writeable = False
    return columns


@dataclasses.dataclass(frozen=True)
class Weighted:
    """The part of the engine's Design that weighting relies on (the contract)."""

    weights: np.ndarray
    calibrations: tuple = ()


def pairs(data: dict[str, np.ndarray], *names: str) -> np.ndarray:
    cells = np.empty(len(data[names[0]]), dtype=object)
    cells[:] = list(zip(*(data[n] for n in names), strict=True))
    return cells


def calibrate(case: str, data: dict[str, np.ndarray], base: Any = None) -> Any:
    """Python twin of each R call in weighting.R (same order of steps), from ``base``."""
    base = Weighted(data["pw"]) if base is None else base
    margins3 = [(data["sch.wide"], POP["sch.wide"]), (data["comp.imp"], POP["comp.imp"]),
                (data["awards"], POP["awards"])]
    if case == "ps_clus1_stype":
        return poststratify(base, data["stype"], POP["stype"])
    if case == "ps_clus1_joint":
        return poststratify(base, pairs(data, "stype", "sch.wide"), JOINT)
    if case == "ps_strat_schwide":
        return poststratify(base, data["sch.wide"], POP["sch.wide"])
    if case == "rake_clus1":
        return rake(base, [(data["stype"], POP["stype"]), (data["sch.wide"], POP["sch.wide"])])
    if case == "rake_strat3":
        return rake(base, margins3)
    if case == "rake_clus1_jointmargin":
        return rake(base, [(pairs(data, "stype", "sch.wide"), JOINT),
                           (data["comp.imp"], POP["comp.imp"])])
    if case == "rake_clus1_default_control":  # R's default control: maxit 10, epsilon 1
        return rake(base, [(data["stype"], POP["stype"]), (data["sch.wide"], POP["sch.wide"])],
                    maxit=10, epsilon=1)
    if case == "ps_then_rake_clus1":
        first = poststratify(base, data["stype"], POP["stype"])
        return rake(first, margins3[1:])
    if case == "ps_clus2_stype":
        return poststratify(base, data["stype"], POP["stype"])
    if case.startswith("nr_then_"):
        adjusted = nonresponse_adjust(base.weights, responded(data), data["stype"])
        base = dataclasses.replace(base, weights=adjusted)
        if case == "nr_then_ps_clus1":
            return poststratify(base, data["sch.wide"], POP["sch.wide"])
        return rake(base, [(data["stype"], POP["stype"]), (data["sch.wide"], POP["sch.wide"])])
    raise AssertionError(case)


def responded(data: dict[str, np.ndarray]) -> np.ndarray:
    """weighting.R: schools with snum %% 5 == 0 refused."""
    return data["snum"] % 5 != 0


def data_for(case: str) -> dict[str, np.ndarray]:
    if "clus2" in case:
        return load_api("apiclus2")
    return load_api("apistrat" if "strat" in case else "apiclus1")


STAGE1_CASES = [c for c in CASES if c != "ps_clus2_stype"]  # clus2: weights fpc-derived


def stage1_vcov(
    x: np.ndarray, strata: np.ndarray, psu: np.ndarray, popsize: np.ndarray
) -> np.ndarray:
    """V = Σ_h (1 − n_h/N_h) n_h/(n_h − 1) Σ_i (z_hi − z̄_h)(z_hi − z̄_h)ᵀ, z = PSU totals."""
    k = x.shape[1]
    v = np.zeros((k, k))
    for h in np.unique(strata):
        rows = strata == h
        _, psu_code = np.unique(psu[rows], return_inverse=True)
        z = np.zeros((psu_code.max() + 1, k))
        np.add.at(z, psu_code, x[rows])
        n = len(z)
        centred = z - z.mean(axis=0)
        v += (1 - n / popsize[rows][0]) * n / (n - 1) * centred.T @ centred
    return v


def calibrated_vcov(
    design: Weighted, x: np.ndarray, data: dict[str, np.ndarray], case: str
) -> np.ndarray:
    for cal in design.calibrations:
        x = cal.residualize(x)
    if "strat" in case:  # svydesign(id=~1, strata=~stype, fpc=~fpc, data=apistrat)
        return stage1_vcov(x, data["stype"], np.arange(len(x)), data["fpc"])
    return stage1_vcov(x, np.zeros(len(x)), data["dnum"], data["fpc"])  # id=~dnum, fpc=~fpc


def influence(w: np.ndarray, y: np.ndarray, statistic: str) -> np.ndarray:
    """R's svymean / svytotal influence values, zero where the weight is zero."""
    y = y.reshape(len(w), -1)
    if statistic == "total":
        return w[:, None] * y
    mean = (w[:, None] * y).sum(axis=0) / w.sum()
    return w[:, None] * (y - mean) / w.sum()


@pytest.mark.parametrize("case", STAGE1_CASES)
def test_do_calibrated_weights_equal_r(case: str) -> None:
    """Are the weights after postStratify / rake R's weights(design), row by row?"""
    data = data_for(case)
    got = calibrate(case, data).weights
    if case == "nr_then_rake_clus1":  # R's reference design holds the respondents only
        assert not got[~responded(data)].any()
        got = got[responded(data)]
    # weights(<case's R call>), see CASES[case]["call"]
    np.testing.assert_allclose(got, CASES[case]["weights"], rtol=REL)


def test_does_nonresponse_adjustment_equal_the_r_formula() -> None:
    """weighting.R: ifelse(resp, pw * ave(pw, stype, sum) / ave(pw * resp, stype, sum), 0)."""
    data = load_api("apiclus1")
    got = nonresponse_adjust(data["pw"], responded(data), data["stype"])
    np.testing.assert_array_equal(responded(data), EXPECTED["nonresponse"]["responded"])
    np.testing.assert_allclose(got, EXPECTED["nonresponse"]["weights"], rtol=REL)
    assert got.sum() == pytest.approx(data["pw"].sum(), rel=1e-12)


STATISTICS = {
    "mean_api00": ("mean", "api00", None),
    "total_enroll": ("total", "enroll", None),
    "mean_api00_api99": ("mean", ("api00", "api99"), None),
    "prop_sch_wide": ("mean", "sch.wide=Yes", None),
    "domain_mean_api00": ("mean", "api00", "domain"),
    "domain_total_enroll": ("total", "enroll", "domain"),
}


def domain_of(case: str, data: dict[str, np.ndarray]) -> np.ndarray:
    # subset(<design>, both == "Yes") for apiclus1/2, subset(<design>, stype == "H") for apistrat
    return data["stype"] == "H" if "strat" in case else data["both"] == "Yes"


@pytest.mark.parametrize("statistic", list(STATISTICS))
@pytest.mark.parametrize("case", STAGE1_CASES)
def test_do_calibrated_variances_equal_r(case: str, statistic: str) -> None:
    """Does residualising by the calibration records give R's vcov of mean/total/domain?"""
    data = data_for(case)
    design = calibrate(case, data)
    kind, column, domain = STATISTICS[statistic]
    if column == "sch.wide=Yes":
        y = (data["sch.wide"] == "Yes").astype(float)
    elif isinstance(column, tuple):
        y = np.column_stack([data[c] for c in column])
    else:
        y = data[column]
    w = design.weights * (domain_of(case, data) if domain else 1.0)
    est = (w[:, None] * y.reshape(len(w), -1)).sum(axis=0) / (w.sum() if kind == "mean" else 1)
    got = calibrated_vcov(design, influence(w, y, kind), data, case)
    # svymean / svytotal(<statistic>, <case's R call>); coef and vcov
    np.testing.assert_allclose(est, CASES[case][statistic]["estimate"], rtol=REL)
    # atol 1e-20 (SE 1e-10) only for a share calibrated on its own variable, whose variance
    # is zero in exact arithmetic (R gives ~1e-34, rounding noise); real variances are > 1e-4.
    np.testing.assert_allclose(got.ravel(), CASES[case][statistic]["vcov"], rtol=REL, atol=1e-20)


@pytest.mark.parametrize("case", ["rake_clus1", "rake_strat3"])
def test_does_rake_stop_after_as_many_passes_as_r(case: str) -> None:
    """Does our convergence test agree with R's: warn at maxit = k − 1, converge at k?"""
    data = data_for(case)
    k = CASES[case]["min_maxit"]  # smallest maxit without R's "did not converge" warning
    base = Weighted(data["pw"])
    margins = ([(data["stype"], POP["stype"]), (data["sch.wide"], POP["sch.wide"])]
               if case == "rake_clus1" else
               [(data["sch.wide"], POP["sch.wide"]), (data["comp.imp"], POP["comp.imp"]),
                (data["awards"], POP["awards"])])
    with pytest.warns(RakingNotConvergedWarning, match=f"after {k - 1} iterations"):
        short = rake(base, margins, maxit=k - 1)
    assert short.calibrations[-1].converged is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        done = rake(base, margins, maxit=k)
    assert done.calibrations[-1].converged and done.calibrations[-1].iterations == k


def test_is_the_design_copied_with_the_calibration_appended() -> None:
    """Does poststratify leave its input alone and append (not replace) calibrations?"""
    data = load_api("apiclus1")
    base = Weighted(data["pw"].copy())
    first = poststratify(base, data["stype"], POP["stype"])
    second = rake(first, [(data["sch.wide"], POP["sch.wide"])])
    np.testing.assert_array_equal(base.weights, data["pw"])
    assert base.calibrations == () and len(first.calibrations) == 1
    assert second.calibrations[0] is first.calibrations[0] and len(second.calibrations) == 2


def test_does_residualize_treat_a_vector_like_a_one_column_matrix() -> None:
    data = load_api("apiclus1")
    cal = poststratify(Weighted(data["pw"]), data["stype"], POP["stype"]).calibrations[0]
    x = data["api00"] * data["pw"]
    np.testing.assert_allclose(cal.residualize(x), cal.residualize(x[:, None])[:, 0])
    with pytest.raises(ValueError, match="183"):
        cal.residualize(x[:10])


def test_does_the_regrouped_raking_residual_equal_r_literal_sweeps() -> None:
    """Is Raking.residualize R's 10 × margins literal sweeps, zero-weight rows included?"""
    rng = np.random.default_rng(5)
    n = 400
    weights = rng.uniform(1, 3, n) * (rng.random(n) > 0.1)
    sex, age, area = rng.integers(1, 3, n), rng.integers(0, 5, n), rng.integers(0, 2, n)
    margins = [(sex, {1: 500.0, 2: 520.0}), (age, {a: 204.0 for a in range(5)}),
               (area, {0: 300.0, 1: 720.0})]
    cal = rake(Weighted(weights), margins).calibrations[0]
    x = rng.normal(size=(n, 3)) * weights[:, None]
    literal = x
    for _ in range(10):  # svyrecvar: for (iterations in 1:10) for (margin in psvar) ...
        for margin in cal.margins:
            literal = margin.sweep(literal)
    np.testing.assert_allclose(cal.residualize(x), literal, rtol=1e-9, atol=1e-12)
    assert not cal.residualize(x)[weights == 0].any()


def test_does_a_sample_cell_missing_from_the_totals_name_the_cell() -> None:
    data = load_api("apiclus1")
    with pytest.raises(ValueError, match="sample cell 'M' has no positive population total"):
        poststratify(Weighted(data["pw"]), data["stype"], {"E": 4421, "H": 755})


def test_does_a_population_cell_without_sample_need_partial() -> None:
    """Is an empty population cell an error, and with partial=True ignored with a warning?"""
    data = load_api("apiclus1")
    totals = {**POP["stype"], "X": 100.0}
    with pytest.raises(ValueError, match="population cell 'X' has no sample.*partial=True"):
        poststratify(Weighted(data["pw"]), data["stype"], totals)
    with pytest.warns(UserWarning, match="absent from sample"):
        got = poststratify(Weighted(data["pw"]), data["stype"], totals, partial=True)
    np.testing.assert_allclose(got.weights, CASES["ps_clus1_stype"]["weights"], rtol=REL)


def test_does_a_raking_error_name_its_margin() -> None:
    data = load_api("apiclus1")
    margins = [(data["stype"], POP["stype"]), (data["sch.wide"], {"Yes": 5122.0})]
    with pytest.raises(ValueError, match="margin 2: sample cell 'No'"):
        rake(Weighted(data["pw"]), margins)
    with pytest.raises(ValueError, match="sch.wide: sample cell sch.wide=No"):
        rake(Weighted(data["pw"]), margins, names=["stype", "sch.wide"])


def test_are_negative_weights_and_totals_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        poststratify(Weighted(np.array([1.0, -1.0])), np.array(["a", "a"]), {"a": 2.0})
    with pytest.raises(ValueError, match="non-negative"):
        poststratify(Weighted(np.array([1.0, 1.0])), np.array(["a", "a"]), {"a": -2.0})


def test_does_nonresponse_adjustment_move_weight_to_respondents_of_the_same_cell() -> None:
    """Hand-worked: cell a Σw = 10+30 = 40, respondents 10 → ×4; cell b 20+20 → ×1."""
    w = np.array([10.0, 30.0, 20.0, 20.0])
    got = nonresponse_adjust(w, np.array([True, False, True, True]), np.array(["a", "a", "b", "b"]))
    np.testing.assert_allclose(got, [40.0, 0.0, 20.0, 20.0])


def test_does_a_cell_without_respondents_stop_the_adjustment() -> None:
    with pytest.raises(ValueError, match="cell 'b' has no respondents"):
        nonresponse_adjust(np.ones(3), np.array([True, False, False]), ["a", "b", "b"])
    with pytest.raises(ValueError, match="boolean"):
        nonresponse_adjust(np.ones(2), np.array([1, 0]), ["a", "a"])


def engine_design(case: str, data: dict[str, np.ndarray]) -> Any:
    """The R svydesign() of each case, built by the engine."""
    from analysis.design import make_design

    n = len(data["api00"])
    if "clus2" in case:  # svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
        return make_design(n, clusters=[data["dnum"], data["snum"]],
                           fpc=[data["fpc1"], data["fpc2"]])
    if "strat" in case:  # svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc)
        return make_design(n, weights=data["pw"], strata=data["stype"], fpc=[data["fpc"]])
    # svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1)
    return make_design(n, weights=data["pw"], clusters=[data["dnum"]], fpc=[data["fpc"]])


@pytest.mark.parametrize("case", list(CASES))
def test_does_the_engine_give_r_se_after_calibration(case: str) -> None:
    """End to end: svymean(~api00), svytotal(~enroll, na.rm = TRUE), both in a domain too."""
    from analysis.engine import NumericIndicator, run

    data = data_for(case)
    design = calibrate(case, data, engine_design(case, data))
    assert len(design.calibrations) >= 1 and design.summary()["calibrated"]
    enroll = data["enroll"]
    indicators = [
        NumericIndicator("api00", data["api00"], np.ones(len(enroll), dtype=bool)),
        NumericIndicator("enroll", np.nan_to_num(enroll), ~np.isnan(enroll)),
    ]
    domain = np.where(domain_of(case, data), 0, -1)
    got = run(design, indicators, domain=domain, n_domains=1, totals=(False, True))
    expected = CASES[case]
    stats_ = ["mean_api00", "total_enroll", "domain_mean_api00", "domain_total_enroll"]
    # estimates and SEs of <case's R call>; row 0 whole sample, row 1 the domain
    want_est = [np.atleast_1d(expected[s]["estimate"])[0] for s in stats_]
    want_se = [np.atleast_1d(expected[s]["se"])[0] for s in stats_]
    np.testing.assert_allclose(got.estimate.ravel(), want_est, rtol=REL)
    np.testing.assert_allclose(got.se.ravel(), want_se, rtol=REL)


def write(path: Path, text: str, bom: bool = False) -> Path:
    path.write_text(("\ufeff" if bom else "") + text, encoding="utf-8")
    return path


JOINT_CSV = "stype,sch.wide,total\n" + "".join(f"{s},{w},{t}\n" for (s, w), t in JOINT.items())


def test_does_a_joint_totals_csv_with_bom_give_r_postStratify(tmp_path: Path) -> None:
    """Does the `<cells>,total` file (UTF-8 BOM) reproduce postStratify(~stype + sch.wide)?"""
    data = load_api("apiclus1")
    path = write(tmp_path / "joint.csv", JOINT_CSV, bom=True)
    got = poststratify_from_csv(Weighted(data["pw"]), data, path)
    np.testing.assert_allclose(got.weights, CASES["ps_clus1_joint"]["weights"], rtol=REL)


def test_does_a_long_margins_csv_give_r_rake(tmp_path: Path) -> None:
    """Does `variable,value,total` (padded with spaces) reproduce rake(~stype, ~sch.wide)?"""
    data = load_api("apiclus1")
    path = write(tmp_path / "margins.csv", "variable,value,total\n"
                 + "".join(f"stype, {k} ,{v}\n" for k, v in POP["stype"].items())
                 + "".join(f"sch.wide,{k},{v}\n" for k, v in POP["sch.wide"].items()))
    got = rake_from_csv(Weighted(data["pw"]), data, path)
    np.testing.assert_allclose(got.weights, CASES["rake_clus1"]["weights"], rtol=REL)


def test_do_numeric_codes_match_text_codes_in_the_csv(tmp_path: Path) -> None:
    """Does a float code 1.0 in the data match '1' in the file, and a Vietnamese label?"""
    columns = {"sex": np.array([1.0, 2.0, 2.0, 1.0]),
               "urban": np.array(["Thành thị", "Thành thị ", "Nông thôn", "Nông thôn"])}
    path = write(tmp_path / "m.csv", "variable,value,total\nsex,1,60\nsex,2,40\n"
                 "urban,Thành thị,50\nurban,Nông thôn,50\n")
    got = rake_from_csv(Weighted(np.ones(4)), columns, path)
    # Hand check: sex 1 (rows 1, 4) → 60/2 = 30, sex 2 → 40/2 = 20; urban is then already
    # 30 + 20 = 50 on each side, so the second pass changes nothing.
    np.testing.assert_allclose(got.weights, [30.0, 20.0, 20.0, 30.0], rtol=REL)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("stype,region,total\nE,x,1\n", r"t\.csv: column 'region' is not in the data"),
        ("stype,sch.wide\nE,No,1\n", r"t\.csv line 1: the header needs one 'total' column"),
        ("stype,sch.wide,total\nE,No,many\n", r"t\.csv line 2: total 'many' is not a number"),
        ("stype,sch.wide,total\nE,No,1\n\nE,No,2\n", r"t\.csv line 4: cell repeats line 2"),
        ("stype,sch.wide,total\nE,No\n", r"t\.csv line 2: expected 3 fields, found 2"),
        (JOINT_CSV.replace("H,No,334\n", ""),
         r"t\.csv: the data has rows in cell stype=H, sch.wide=No but the file has no line"),
        (JOINT_CSV.replace("H,No,334", "H,No,0"), r"t\.csv line 3: cell stype=H, sch.wide=No "
                                                  r"has total 0"),
        (JOINT_CSV + "X,No,5\n", r"t\.csv line 8: no data row falls in cell stype=X, sch.wide=No"),
    ],
)
def test_does_a_bad_joint_totals_file_name_file_line_and_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    data = load_api("apiclus1")
    with pytest.raises(ValueError, match=message):
        poststratify_from_csv(Weighted(data["pw"]), data, write(tmp_path / "t.csv", text))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("var,value,total\n", r"m\.csv line 1: the header must be 'variable,value,total'"),
        ("variable,value,total\nregion,1,5\n", r"m\.csv line 2: variable 'region' is not"),
        ("variable,value,total\nstype,E,-3\n", r"m\.csv line 2: total -3 must be a non-negative"),
        ("variable,value,total\nstype,E,1\nstype,E,2\n", r"m\.csv line 3: stype=E repeats"),
        ("variable,value,total\nstype,E,1\nstype,H,1\nstype,M,1\nstype,X,1\n",
         r"m\.csv line 5: no data row falls in cell stype=X; remove the line"),
        ("variable,value,total\nstype,E,1\nstype,H,1\n",
         r"m\.csv: the data has rows in cell stype=M but the file has no line"),
        ("variable,value,total\n", r"m\.csv: no margins below the header"),
    ],
)
def test_does_a_bad_margins_file_name_file_line_and_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    data = load_api("apiclus1")
    with pytest.raises(ValueError, match=message):
        rake_from_csv(Weighted(data["pw"]), data, write(tmp_path / "m.csv", text))


def test_is_a_missing_cell_value_in_the_data_refused(tmp_path: Path) -> None:
    """R's na.fail: a row without a cell cannot be calibrated."""
    columns = {"sex": np.array([1.0, np.nan, 2.0])}
    path = write(tmp_path / "m.csv", "variable,value,total\nsex,1,5\nsex,2,5\n")
    with pytest.raises(ValueError, match="'sex' is missing in 1 row.*first data row 2"):
        rake_from_csv(Weighted(np.ones(3)), columns, path)


def test_does_totals_columns_name_the_data_columns_a_file_needs(tmp_path: Path) -> None:
    """The CLI reads only these columns: header cells for a joint table, variables for rake."""
    joint = write(tmp_path / "j.csv", JOINT_CSV, bom=True)
    long = write(tmp_path / "m.csv", "variable,value,total\nsex,1,5\nsex,2,5\nurban,A,10\n")
    assert totals_columns(joint, "poststratify") == ["stype", "sch.wide"]
    assert totals_columns(long, "rake") == ["sex", "urban"]
    with pytest.raises(ValueError, match=r"j\.csv line 1: the header must be"):
        totals_columns(joint, "rake")
