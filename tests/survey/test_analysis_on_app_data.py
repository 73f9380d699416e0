"""Can analysts run `sipas estimate` and `sipas index` on the app's export and database?"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from survey.cli import main
from survey.instruments import load_instrument


@pytest.fixture
def demo_export(demo: Flask, runner: CliRunner, cli_env: dict[str, str], tmp_path: Path
                ) -> Path:
    """The demo province's verified round as exported (the demo copied, not rebuilt)."""
    out = tmp_path / "round.csv"
    result = runner.invoke(main, ["export", "--out", str(out), "--status", "verified",
                                  "--round", "2025"])
    assert result.exit_code == 0, result.output
    return out


def _json(runner: CliRunner, args: list[str]) -> dict:
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_index_by_instrument_on_the_export_equals_the_database_path(
    runner: CliRunner, demo_export: Path
) -> None:
    design = ["--weight", "weight", "--strata", "stratum", "--psu", "psu"]
    from_file = _json(runner, ["index", str(demo_export), "--instrument", "sipas_services",
                               *design, "--by", "district", "--target", "0.8",
                               "--format", "json"])
    from_db = _json(runner, ["index", "--db", "--round", "2025", "--instrument",
                             "sipas_services", "--by", "district", "--target", "0.8",
                             "--format", "json"])
    assert from_file["estimates"] == from_db["estimates"]
    form = load_instrument("sipas_services")
    levels = [e["level"] for e in from_file["estimates"] if e["domain"] == {}]
    assert levels.count("criterion") == sum(len(e.items) for e in form.elements) == 19
    assert levels.count("element") == 5 and levels.count("overall") == 1
    overall = next(e for e in from_file["estimates"]
                   if e["level"] == "overall" and e["domain"] == {})
    assert 0 < overall["ci_low"] < overall["estimate"] < overall["ci_high"] < 1
    assert overall["verdict"] in ("above", "below", "inconclusive")
    districts = {e["domain"]["district"] for e in from_file["estimates"] if e["domain"]}
    assert len(districts) == 3  # the demo's three districts, Vietnamese names intact
    assert all(d.startswith(("Huyện", "Thị xã")) for d in districts)


def test_estimate_reads_the_export_with_vietnamese_domains(
    runner: CliRunner, demo_export: Path
) -> None:
    data = _json(runner, ["estimate", str(demo_export), "--var", "c3_1", "--satisfied", "4,5",
                          "--weight", "weight", "--strata", "stratum", "--psu", "psu",
                          "--by", "commune", "--format", "json"])
    whole = data["estimates"][0]
    assert whole["domain"] == {} and whole["n"] > 150
    assert whole["df"] == 9 - 3  # 9 sampled hamlets in 3 strata
    assert any("Xã" in e["domain"].get("commune", "") for e in data["estimates"][1:])


def test_db_path_names_an_unknown_round(demo: Flask, runner: CliRunner,
                                        cli_env: dict[str, str]) -> None:
    result = runner.invoke(main, ["estimate", "--db", "--round", "1999", "--var", "c1_1",
                                  "--satisfied", "4,5"])
    assert result.exit_code == 1
    assert "no survey round '1999'" in result.output and "2025" in result.output


def test_index_db_reads_the_tables_directly_and_equals_the_export(
    runner: CliRunner, demo_export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14: ``index --db --instrument`` skips the CSV (seconds at national size); the
    numbers stay the export's. An export column the direct reader lacks uses the export."""
    from survey.services.data import analysis_extract

    extracted: list[str | None] = []
    real = analysis_extract.extract_round
    monkeypatch.setattr(analysis_extract, "extract_round",
                        lambda code, folder=None: extracted.append(code) or real(code, folder))
    design = ["--weight", "weight", "--strata", "stratum", "--psu", "psu"]
    for by in ("commune", "mode"):
        from_file = _json(runner, ["index", str(demo_export), "--instrument",
                                   "sipas_services", *design, "--by", by, "--format", "json"])
        from_db = _json(runner, ["index", "--db", "--round", "2025", "--instrument",
                                 "sipas_services", "--by", by, "--format", "json"])
        assert from_db["estimates"] == from_file["estimates"], by
        assert from_db["design"]["n"] == from_file["design"]["n"]
    assert extracted == ["2025"]  # commune came from the tables; mode needed the export
    # asked again about the same data, the answer is the kept one, the round is not read
    from survey.services.reports import round_data

    monkeypatch.setenv("SIPAS_REPORT_CACHE", str(demo_export.parent / "kept"))
    reads: list[int] = []
    real_read = round_data._read
    monkeypatch.setattr(round_data, "_read", lambda *a, **k: reads.append(1) or real_read(*a, **k))
    ask = ["index", "--db", "--instrument", "sipas_services", "--by", "district",
           "--format", "json"]
    first, again = _json(runner, ask), _json(runner, ask)
    assert first == again and len(reads) == 1
    # another question about the same data: its answer is computed again, from the read
    # the first command kept on disk (as another process would find it), not the database
    round_data.wait_for_writes()
    with round_data._lock:
        round_data._kept.clear()
    assert _json(runner, [*ask, "--target", "0.9"]) != first and len(reads) == 1
    # the table handed to the index holds the columns asked, not the round's every column
    from survey.services.data.analysis_extract import read_round

    asked = {"items": ["c1_1", "c1_2"], "design": ["weight", "stratum", "psu", "commune"]}
    table = read_round("2025", "sipas_services", asked)
    assert table is not None and set(table.table.names) == {
        "c1_1", "c1_2", "weight", "stratum", "psu", "commune"}
    # the direct reader's columns are the whole round's (the dashboard's, tested = export)
    import numpy as np
    from sqlmodel import Session

    from survey.db import make_engine
    from survey.services.reports.round_data import load_round, read_items

    engine = make_engine(os.environ["DATABASE_URL"])
    items = [c for e in load_instrument("sipas_services").elements for c in e.items]
    try:
        with Session(engine) as session:
            whole = load_round(session, "2025", "sipas_services")
            some = read_items(session, "2025", "sipas_services", items[:4])
    finally:
        engine.dispose()
    assert some.n == whole.n > 100
    assert set(some.numbers) == {"weight", *items[:4]}
    for name, values in some.numbers.items():
        np.testing.assert_array_equal(values, whole.numbers[name], err_msg=name)
    for name in ("stratum", "psu", "commune"):
        assert list(some.text[name]) == list(whole.text[name])


def test_the_console_script_prints_the_index_and_leaves_its_read_whole(
    demo: Flask, runner: CliRunner, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """``sipas`` (the console script, :func:`survey.cli.run`) leaves quickly, its modules
    frozen for the way out: what it prints is the in-process command's, its exit codes are
    click's, and the round it read is on disk whole (the writer thread was waited for)."""
    import subprocess
    import sys
    from importlib.metadata import entry_points

    from survey.services.reports import round_data

    assert [e.value for e in entry_points(group="console_scripts", name="sipas")] == [
        "survey.cli:run"]
    kept = tmp_path / "kept"
    env = {**os.environ, **cli_env, "SIPAS_REPORT_CACHE": str(kept), "SIPAS_LANG": "vi"}
    ask = ["index", "--db", "--round", "2025", "--instrument", "sipas_services",
           "--by", "district", "--format", "json"]
    done = subprocess.run([sys.executable, "-m", "survey.cli", *ask], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == _json(runner, ask)
    rounds = list(kept.glob("round-*.pickle"))
    assert len(rounds) == 1 and not list(kept.glob(".part-*"))
    with rounds[0].open("rb") as fh:  # the version first, then the read (cache.keep_version)
        version, data = pickle.load(fh), pickle.load(fh)  # noqa: S301 - written above
    assert isinstance(version, tuple) and isinstance(data, round_data.RoundData)
    assert data.n > 100 and "c1_1" in data.numbers
    # a bulk command in its own process (collection paused, the app set aside) writes
    # the file a command in this process writes
    for name in ("script.csv", "here.csv"):
        args = ["export", "--status", "verified", "--round", "2025",
                "--out", str(tmp_path / name)]
        if name == "here.csv":
            assert runner.invoke(main, args).exit_code == 0
        else:
            assert subprocess.run([sys.executable, "-m", "survey.cli", *args], env=env,
                                  capture_output=True, timeout=120, check=False
                                  ).returncode == 0
    assert (tmp_path / "script.csv").read_bytes() == (tmp_path / "here.csv").read_bytes()
    wrong = subprocess.run([sys.executable, "-m", "survey.cli", "index", "--db", "--round",
                            "1999", "--instrument", "sipas_services"], env=env,
                           capture_output=True, text=True, timeout=120, check=False)
    assert wrong.returncode == 1 and "1999" in wrong.stderr + wrong.stdout
    assert "Traceback" not in wrong.stderr
