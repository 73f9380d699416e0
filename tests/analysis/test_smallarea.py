"""The Fay–Herriot model equals R's sae (eblupFH + mseFH, REML) and its intervals cover.

Values pinned by ``reference/smallarea.R`` (sae 1.3's own R files sourced) in
``reference/smallarea_expected.csv``; relative tolerance 1e-6. The coverage check is a short
version of ``benchmarks/sim_smallarea.py``.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from analysis.cli import smallarea_command

REF = Path(__file__).resolve().parent / "reference"
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
AREAS = REF / "smallarea_areas.csv"


@pytest.fixture(scope="module")
def expected() -> dict[str, float]:
    with (REF / "smallarea_expected.csv").open(encoding="utf-8") as fh:
        return {row["key"]: float(row["value"]) for row in csv.DictReader(fh)}


@pytest.mark.parametrize(("spec", "aux"), [("two", ["desk_share", "on_time"]),
                                           ("one", ["desk_share"])])
def test_eblup_mse_and_area_variance_match_sae(expected, spec: str, aux: list[str]) -> None:
    """R: ``mseFH(direct ~ desk_share + on_time, vardir, method = "REML", data = areas)``
    (and with desk_share alone): refvar, β and their SEs, every area's EBLUP and MSE."""
    args = [str(AREAS), "--area", "commune", "--direct", "direct", "--vardir", "vardir"]
    for a in aux:
        args += ["--aux", a]
    result = CliRunner().invoke(smallarea_command, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    model = body["model"]
    assert model["area_variance"] == pytest.approx(expected[f"{spec}.refvar"], rel=1e-6)
    assert model["iterations"] == expected[f"{spec}.iterations"]
    for j, (name, coef) in enumerate(model["coefficients"].items(), start=1):
        assert coef["estimate"] == pytest.approx(expected[f"{spec}.beta{j}"], rel=1e-6), name
        assert coef["se"] == pytest.approx(expected[f"{spec}.beta{j}.se"], rel=1e-6), name
    assert len(body["areas"]) == 30
    for row in body["areas"]:
        assert row["model_estimate"] == pytest.approx(
            expected[f"{spec}.eblup.{row['area']}"], rel=1e-6)
        assert row["model_rmse"] ** 2 == pytest.approx(
            expected[f"{spec}.mse.{row['area']}"], rel=1e-6)
        assert row["note"] == "model (Fay–Herriot)"
        # the noisier the direct estimate, the more the model weighs
        assert 0 < row["weight_of_model"] < 1


def test_model_mse_is_honest_and_its_intervals_nearly_cover() -> None:
    """A simulation with known truth (40 areas, area effects of SD 0.05, sampling variances
    0.002–0.012, 300 samples): the mean estimated MSE equals the empirical one within 10 %;
    the 95 % model intervals cover 90–97 % (a little under 95 %, as known for plug-in
    intervals with few areas: ``benchmarks/sim_smallarea.py`` reports the figures) and are
    narrower than the direct ones, which cover 95 %."""
    from sim_smallarea import simulate

    r = simulate(40, 0.05, 300, seed=19)
    assert abs(r["mse_ratio"] - 1) < 0.10
    assert 0.90 <= r["model"] <= 0.97
    assert 0.93 <= r["direct"] <= 0.97
    assert r["width"] < 0.8 * r["direct_width"]


@pytest.mark.parametrize(("change", "phrase"), [
    ("dup", "appears twice"), ("zero", "must be positive"), ("empty", "no empty cells"),
])
def test_bad_area_tables_are_refused_in_words(tmp_path: Path, change: str,
                                              phrase: str) -> None:
    lines = AREAS.read_text(encoding="utf-8").splitlines()
    if change == "dup":
        lines.append(lines[1])
    elif change == "zero":
        cells = lines[3].split(",")
        cells[2] = "0"
        lines[3] = ",".join(cells)
    else:
        cells = lines[3].split(",")
        cells[3] = ""
        lines[3] = ",".join(cells)
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(smallarea_command, [str(bad), "--area", "commune", "--direct",
                                                    "direct", "--vardir", "vardir", "--aux",
                                                    "desk_share"])
    assert result.exit_code == 1 and phrase in result.output, result.output
    assert "Traceback" not in result.output
