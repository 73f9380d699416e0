"""Do `sipas frame/round/sample/weights` work end to end and fail in one clear line?"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import text

from survey.cli import main
from survey.db import make_engine
from tests.sample.conftest import frame_csv


def _run(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(main, list(args), catch_exceptions=False)


def _one_error_line(result: Result, needle: str) -> None:
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert needle in result.output, result.output
    assert "Traceback" not in result.output
    assert len([line for line in lines if line.startswith("Error")]) == 1


def test_import_draw_lists_and_weights_from_the_command_line(
    runner: CliRunner, cli_env: dict[str, str], tmp_path: Path
) -> None:
    frame = tmp_path / "khung.csv"
    frame.write_text(frame_csv(), encoding="utf-8")
    assert _run(runner, "init").exit_code == 0
    result = _run(runner, "frame", "import", str(frame))
    assert result.exit_code == 0 and "34 units created" in result.output, result.output
    assert _run(runner, "round", "create", "--code", "2026", "--name", "Khảo sát SIPAS 2026",
                "--year", "2026").exit_code == 0
    draw = _run(runner, "sample", "draw", "--survey", "2026", "--strata-level", "district",
                "--hamlets-per-stratum", "2", "--per-hamlet", "12", "--seed", "99")
    assert draw.exit_code == 0, draw.output
    assert "6 hamlets in 3 strata" in draw.output and "seed 99" in draw.output
    out = tmp_path / "lists"
    lists = _run(runner, "sample", "lists", "--survey", "2026", "--out", str(out))
    assert lists.exit_code == 0, lists.output
    csv_text = (out / "fieldwork_2026.csv").read_text(encoding="utf-8-sig")
    assert len(csv_text.strip().splitlines()) == 1 + 6 * 12 and "Ấp Bàu Sen" in csv_text
    pdf = next(out.glob("*.pdf")).read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000
    listing = tmp_path / "listed.csv"
    listing.write_text("psu,listed\n" + "".join(f"{k:04d},{50 + k}\n" for k in range(1, 7)))
    assert _run(runner, "sample", "listed", "--survey", "2026", str(listing)).exit_code == 0
    engine = make_engine(cli_env["DATABASE_URL"])
    with engine.connect() as conn:
        listed = conn.execute(text("SELECT sum(listed_persons) FROM sample_unit")).scalar_one()
    engine.dispose()
    assert listed == sum(50 + k for k in range(1, 7))
    rounds = _run(runner, "round", "list")
    assert "2026" in rounds.output and "6 hamlets" in rounds.output


def test_a_bad_frame_is_one_clear_message_and_nothing_is_imported(
    runner: CliRunner, cli_env: dict[str, str], tmp_path: Path
) -> None:
    frame = tmp_path / "khung.csv"
    frame.write_text(frame_csv() + "9001,Trùng,district,90,,,,,,\n", encoding="utf-8")
    _run(runner, "init")
    result = _run(runner, "frame", "import", str(frame))
    _one_error_line(result, "line 36: duplicate code '9001'")
    assert "nothing was imported" in result.output
    engine = make_engine(cli_env["DATABASE_URL"])
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM admin_unit")).scalar_one() == 0
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["frame", "import", "nope.csv"], "nope.csv: file not found"),
        (["sample", "draw", "--survey", "X", "--strata-level", "district",
          "--hamlets-per-stratum", "2", "--per-hamlet", "5"], "no survey round 'X'"),
        (["sample", "draw", "--survey", "2026", "--strata-level", "district",
          "--hamlets-per-stratum", "two", "--per-hamlet", "5"], "is not a valid integer"),
        (["sample", "lists", "--survey", "2026", "--out", "o"], "has no sample yet"),
        (["weights", "compute", "--survey", "2026", "--trim", "0.5"], "no sampled questionnaires"),
        (["weights", "compute", "--survey", "2026", "--margins", "m.csv"], "m.csv: file not found"),
        (["round", "publish", "2026"], "no computed weights"),
        (["round", "create", "--code", "2026", "--name", "x", "--year", "2026"], "already exists"),
        (["round", "create", "--code", "2027", "--name", "x", "--year", "1900"], "year must be"),
        (["round", "create", "--code", "2027", "--name", "x", "--year", "2027", "--area", "99"],
         "no administrative unit has the code '99'"),
        (["frame", "crosswalk", "--on", "2025-13-01"], "'2025-13-01' is not a date"),
        (["frame", "crosswalk", "--level", "tinh"], "'tinh' is not a level of the frame"),
    ],
)
def test_bad_options_give_one_clear_line(
    runner: CliRunner, cli_env: dict[str, str], args: list[str], needle: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    _run(runner, "init")
    _run(runner, "round", "create", "--code", "2026", "--name", "SIPAS 2026", "--year", "2026")
    _one_error_line(_run(runner, *args), needle)


def test_weights_of_the_demo_round_then_publish_and_a_new_version(
    demo: Flask, runner: CliRunner, cli_env: dict[str, str]
) -> None:
    first = _run(runner, "weights", "compute", "--survey", "2025")
    assert first.exit_code == 0 and "weights version 1" in first.output, first.output
    assert _run(runner, "round", "publish", "2025").exit_code == 0
    _one_error_line(_run(runner, "weights", "compute", "--survey", "2025", "--trim", "3"),
                    "frozen; make a new version 2")
    second = _run(runner, "weights", "compute", "--survey", "2025", "--new-version",
                  "--reason", "listing corrected")
    assert second.exit_code == 0 and "weights version 2" in second.output, second.output
    engine = make_engine(cli_env["DATABASE_URL"])
    with engine.connect() as conn:
        versions = conn.execute(text("SELECT count(DISTINCT version_id) FROM response_weight"))
        missing = conn.execute(text(
            "SELECT count(*) FROM response WHERE mode = 'paper' AND status = 'verified' "
            "AND outcome IN ('completed', 'screened_out') AND weight IS NULL"))
        assert versions.scalar_one() == 2 and missing.scalar_one() == 0
    engine.dispose()
