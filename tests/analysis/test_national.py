"""Is the national SIPAS index — provinces as strata, each province's own design nested
inside — and each province's index R's, to 1e-6?

Three provinces' samples put together (``reference/national_small.csv``; their stratum and
PSU codes repeat across provinces, as two provinces' exports do). Expected values:
``reference/national_expected.csv``, written by ``reference/national.R`` (R 4.2.2, survey
4.1-1: ``svydesign(id = ~psu, strata = ~interaction(province, stratum), weights = ~weight,
nest = TRUE)``, ``svyratio(covmat = TRUE)`` and ``svycontrast``), the R call beside each
value. The command line reads the same file with ``--strata province:stratum --nest``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from analysis.cli import index_command
from analysis.design import make_design
from analysis.estimate import Domains
from analysis.index import Element, sipas_index
from analysis.io import read_csv

REL = 1e-6
REFERENCE = Path(__file__).resolve().parent / "reference"
DATA = REFERENCE / "national_small.csv"
ELEMENTS = [Element("I", ("I1", "I2", "I3")), Element("II", ("II1", "II2")),
            Element("V", ("V1", "V2"))]
PROVINCES = ("Tây Ninh", "Cà Mau", "Lai Châu")


@pytest.fixture(scope="module")
def expected() -> dict[str, float]:
    with (REFERENCE / "national_expected.csv").open(encoding="utf-8") as fh:
        return {row["key"]: float(row["value"]) for row in csv.DictReader(fh)}


def _check(rows, expected: dict[str, float]) -> int:  # type: ignore[no-untyped-def]
    checked = 0
    for row in rows:
        key = f"{row.domain.get('province', 'all')}.{row.name}"
        assert row.estimate == pytest.approx(expected[key + ".est"], rel=REL), key
        assert row.se == pytest.approx(expected[key + ".se"], rel=REL), key
        if row.level == "criterion":
            assert row.df == expected[key + ".df"], key
        checked += 1
    return checked


def test_the_national_and_province_indices_are_rs(expected: dict[str, float]) -> None:
    t = read_csv(DATA, text_columns=["province", "stratum", "psu"])
    prov, strat = t.categorical("province"), t.categorical("stratum")
    strata = np.array([f"{prov.labels[a]}:{strat.labels[b]}"
                       for a, b in zip(prov.codes, strat.codes, strict=True)], dtype=object)
    design = make_design(t.n, weights=t.numeric("weight"), strata=strata,
                         clusters=[t.categorical("psu")], nest=True)
    answers = {c: t.numeric(c) for e in ELEMENTS for c in e.items}
    rows = sipas_index(design, answers, ELEMENTS, Domains.of("province", prov))
    assert _check(rows, expected) == (1 + len(PROVINCES)) * (7 + 3 + 1)
    national = next(r for r in rows if r.level == "overall" and not r.domain)
    assert national.df == expected["all.df"]  # 26 PSUs in 7 strata: 19


def test_the_command_reads_a_national_file_with_nested_strata(expected) -> None:  # type: ignore[no-untyped-def]
    args = [str(DATA), "--element", "I=I1,I2,I3", "--element", "II=II1,II2",
            "--element", "V=V1,V2", "--weight", "weight", "--strata", "province:stratum",
            "--psu", "psu", "--nest", "--by", "province", "--format", "json"]
    done = CliRunner().invoke(index_command, args)
    assert done.exit_code == 0, done.output
    rows = json.loads(done.output)["estimates"]
    checked = 0
    for row in rows:
        key = f"{(row['domain'] or {}).get('province', 'all')}.{row['indicator']}"
        assert row["estimate"] == pytest.approx(expected[key + ".est"], rel=REL), key
        assert row["se"] == pytest.approx(expected[key + ".se"], rel=REL), key
        checked += 1
    assert checked == (1 + len(PROVINCES)) * 11
    # without the province, the strata S1, S2 of different provinces would be merged
    merged = CliRunner().invoke(index_command, [*args[:9], "--strata", "stratum",
                                                *args[11:]])
    national = next(r for r in json.loads(merged.output)["estimates"]
                    if r["level"] == "overall" and not r["domain"])
    assert national["se"] != pytest.approx(expected["all.SIPAS.se"], rel=1e-3)


def test_the_provinces_are_ranked_from_the_commands_csv(tmp_path: Path) -> None:
    from analysis.cli_rank import rank_command

    args = [str(DATA), "--element", "I=I1,I2,I3", "--element", "II=II1,II2",
            "--element", "V=V1,V2", "--weight", "weight", "--strata", "province:stratum",
            "--psu", "psu", "--nest", "--by", "province", "--format", "csv"]
    index_csv = tmp_path / "provinces.csv"
    index_csv.write_text(CliRunner().invoke(index_command, args).output, encoding="utf-8")
    done = CliRunner().invoke(rank_command, [str(index_csv), "--area", "domain", "--estimate",
                                             "estimate", "--se", "se", "--where",
                                             "level=overall", "--format", "json"])
    assert done.exit_code == 0, done.output
    areas = json.loads(done.output)["areas"]
    assert sorted(a["area"] for a in areas) == sorted(f"province={p}" for p in PROVINCES)
    assert [a["rank"] for a in areas] == [1, 2, 3]  # the national row is not ranked


def test_a_row_without_its_province_has_no_stratum_and_is_refused(tmp_path: Path) -> None:
    lines = DATA.read_text(encoding="utf-8").splitlines()
    lines[3] = "," + lines[3].split(",", 1)[1]  # the province left empty on one row
    data = tmp_path / "national.csv"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = CliRunner().invoke(index_command, [
        str(data), "--element", "I=I1,I2,I3", "--weight", "weight", "--strata",
        "province:stratum", "--psu", "psu", "--nest"])
    assert done.exit_code != 0 and "strata are empty in 1 rows" in done.output

