"""Do `sipas init`, `user` and `export` work end to end, and fail cleanly on bad input?"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import text

from survey.cli import main
from survey.db import make_engine
from survey.services.data.export import DESIGN_COLUMNS


def _invoke(runner: CliRunner, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(main, list(args), input=input, catch_exceptions=False)


def test_help_lists_every_command(runner: CliRunner) -> None:
    result = _invoke(runner, "--help")
    assert result.exit_code == 0
    for name in ("init", "run", "user", "export", "estimate", "index", "plan"):
        assert f"  {name} " in result.output


def test_init_is_idempotent(runner: CliRunner, cli_env: dict[str, str]) -> None:
    first = _invoke(runner, "init")
    assert first.exit_code == 0, first.output
    assert "form sipas_services" in first.output and "published" in first.output
    second = _invoke(runner, "init")
    assert second.exit_code == 0, second.output
    assert "unchanged" in second.output and "up to date" in second.output


def test_init_demo_builds_the_demo_province(runner: CliRunner, cli_env: dict[str, str]) -> None:
    result = _invoke(runner, "init", "--demo")
    assert result.exit_code == 0, result.output
    for username in ("admin", "giamsat", "nhaplieu1", "phantich"):
        assert username in result.output
    tablet = re.search(r"máy tính bảng tại quầy: \S+(/kiosk/[\w-]{32})", result.output)
    assert tablet is not None, result.output  # a counter tablet to try at once
    engine = make_engine(cli_env["DATABASE_URL"])
    with engine.connect() as conn:
        verified = conn.execute(text(
            "SELECT count(*) FROM response WHERE mode = 'paper' AND status = 'verified'"
            " AND outcome = 'completed'")).scalar_one()
        hamlets = conn.execute(text("SELECT count(*) FROM sample_unit")).scalar_one()
        strata = conn.execute(
            text("SELECT count(DISTINCT stratum_id) FROM sample_unit")).scalar_one()
        desks = conn.execute(text("SELECT count(*) FROM desk")).scalar_one()
        evaluations = conn.execute(
            text("SELECT count(*) FROM response WHERE mode='qr'")).scalar_one()
        keyers = conn.execute(text(
            "SELECT count(DISTINCT enumerator_id) FROM response WHERE mode='paper'")).scalar_one()
    engine.dispose()
    assert verified >= 200 and hamlets >= 6 and strata >= 3
    assert desks >= 3 and evaluations >= 100 and keyers >= 2
    again = _invoke(runner, "init", "--demo")
    assert "demo not added" in again.output


def test_export_has_the_design_columns_and_one_row_per_response(
    demo: Flask, runner: CliRunner, cli_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "all.csv"
    result = _invoke(runner, "export", "--format", "csv", "--out", str(out))
    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    header = list(rows[0].keys())
    assert header[: len(DESIGN_COLUMNS)] == list(DESIGN_COLUMNS)
    engine = make_engine(cli_env["DATABASE_URL"])
    with engine.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM response")).scalar_one()
    engine.dispose()
    assert len(rows) == total
    assert len({r["response_id"] for r in rows}) == total
    household = [r for r in rows if r["mode"] == "paper" and r["outcome"] == "completed"]
    sample = household[0]
    assert sample["province"] == "Tỉnh An Hòa" and sample["district"].startswith(("Huyện", "Thị"))
    assert sample["hamlet"] and sample["stratum"] and sample["psu"] and float(sample["weight"]) > 1
    assert abs(float(sample["weight"]) - 1 / (float(sample["prob_stage1"])
                                              * float(sample["prob_stage2"]))) < 1e-6
    assert "dossier_code" not in header
    assert all(r["desk"] for r in rows if r["mode"] == "qr")
    verified = tmp_path / "verified.csv"
    _invoke(runner, "export", "--out", str(verified), "--status", "verified")
    kept = list(csv.DictReader(io.StringIO(verified.read_text(encoding="utf-8-sig"))))
    assert kept and all(r["status"] == "verified" for r in kept)
    assert len(kept) == sum(r["status"] == "verified" for r in rows)


def test_user_add_list_disable(runner: CliRunner, cli_env: dict[str, str]) -> None:
    _invoke(runner, "init")
    added = runner.invoke(main, ["user", "add", "--username", "lan", "--role", "enumerator",
                                 "--name", "Nguyễn Thị Lan", "--password-stdin"],
                          input="mật khẩu rất dài 123\n")
    assert added.exit_code == 0, added.output
    listed = _invoke(runner, "user", "list")
    assert "lan" in listed.output and "enumerator" in listed.output and "active" in listed.output
    dup = runner.invoke(main, ["user", "add", "--username", "lan", "--role", "analyst",
                               "--password-stdin"], input="another long password\n")
    assert dup.exit_code != 0 and "already exists" in dup.output
    short = runner.invoke(main, ["user", "add", "--username", "an", "--role", "analyst",
                                 "--password-stdin"], input="short\n")
    assert short.exit_code != 0 and "at least" in short.output
    assert _invoke(runner, "user", "disable", "lan").exit_code == 0
    assert "disabled" in _invoke(runner, "user", "list").output


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}, "cannot reach the database"),
        ({"DATABASE_URL": "oracle://x@y/z"}, "DATABASE_URL"),
        ({"SIPAS_BASE_URL": "no-scheme.example"}, "SIPAS_BASE_URL"),
    ],
)
def test_bad_configuration_fails_with_one_clear_line(
    env: dict[str, str], message: str, tmp_path: Path
) -> None:
    full = {"PATH": "/usr/bin:/bin", "SIPAS_INSTANCE": str(tmp_path), **env}
    proc = subprocess.run([sys.executable, "-m", "survey.cli", "init"], env=full,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_invalid_form_stops_init_before_the_database(
    runner: CliRunner, cli_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    forms = tmp_path / "forms"
    forms.mkdir()
    (forms / "broken.yaml").write_text("code: broken\nsections: [\n", encoding="utf-8")
    monkeypatch.setenv("SIPAS_FORMS", str(forms))
    result = runner.invoke(main, ["init"])
    assert result.exit_code != 0
    assert "broken.yaml" in result.output
    engine = make_engine(cli_env["DATABASE_URL"])
    with engine.connect() as conn:
        tables = conn.dialect.get_table_names(conn)
    engine.dispose()
    assert "response" not in tables


def test_demo_dossiers_are_hashed_with_the_live_forms_key(
    runner: CliRunner, cli_env: dict[str, str]
) -> None:
    """A demo dossier evaluated again on the live QR form must be caught as a duplicate."""
    import runpy

    from survey.services.desks.links import dossier_secret
    from survey.services.responses import dossier_hash

    assert _invoke(runner, "init", "--demo").exit_code == 0
    key = runpy.run_path(str(Path(cli_env["SIPAS_INSTANCE"]) / "config.py"))["SECRET_KEY"]
    engine = make_engine(cli_env["DATABASE_URL"])
    with engine.connect() as conn:
        stored = set(conn.execute(text(
            "SELECT dossier_hash FROM response WHERE dossier_hash IS NOT NULL")).scalars())
    engine.dispose()
    secret = dossier_secret(key)
    demo_codes = [f"H{d:02d}.2025.{k:05d}" for d in range(1, 5) for k in range(1, 141)]
    assert sum(dossier_hash(secret, code) in stored for code in demo_codes) == len(stored) > 50
