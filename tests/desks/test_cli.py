"""Do the `sipas desk` commands keep their contract, from `desk add` to a decoded poster?"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from urllib.parse import urlparse

import pytest
from click.testing import CliRunner, Result

from survey.cli import main
from tests.desks.conftest import GOOD_ANSWERS, open_form
from tests.desks.test_qr import decode_png, decode_svg

BASE = "https://sipas.example.gov.vn"


def _run(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def initialised(runner: CliRunner, cli_env: dict[str, str],
                monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SIPAS_BASE_URL", BASE + "/")
    assert _run(runner, "init").exit_code == 0
    return runner


def _add(runner: CliRunner, code: str = "PL-MC1") -> str:
    result = _run(runner, "desk", "add", "--code", code, "--name", "Một cửa xã Phú Lâm",
                  "--agency", "UBND xã Phú Lâm", "--level", "commune")
    assert result.exit_code == 0, result.output
    url = result.output.strip().splitlines()[-1]
    assert url.startswith(BASE + "/d/")
    return url


def test_add_prints_the_url_and_list_shows_the_desk(initialised: CliRunner) -> None:
    assert "no desks yet" in _run(initialised, "desk", "list").output
    url = _add(initialised)
    listed = _run(initialised, "desk", "list", "--urls")
    assert listed.output.splitlines()[0].split()[:4] == ["code", "state", "QR", "evals"]
    assert "PL-MC1" in listed.output and "active" in listed.output and url in listed.output
    assert _run(initialised, "desk", "url", "PL-MC1").output.strip() == url


def test_rotate_prints_a_new_url_and_disable_shows_in_the_list(initialised: CliRunner) -> None:
    old = _add(initialised)
    rotated = _run(initialised, "desk", "rotate", "PL-MC1")
    new = rotated.output.strip().splitlines()[-1]
    assert rotated.exit_code == 0 and new.startswith(BASE) and new != old
    assert _run(initialised, "desk", "disable", "PL-MC1").exit_code == 0
    assert "disabled" in _run(initialised, "desk", "list").output
    assert _run(initialised, "desk", "enable", "PL-MC1").exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["desk", "add", "--code", "PL-MC1", "--name", "again"], "already exists"),
        (["desk", "add", "--code", "bad code", "--name", "x"], "desk code"),
        (["desk", "rotate", "NOPE"], "no desk with code 'NOPE'"),
        (["desk", "disable", "NOPE"], "no desk with code 'NOPE'"),
        (["desk", "qr", "PL-MC1", "--out", "x.gif"], "must end in .png, .svg or .pdf"),
        (["desk", "qr", "--out", "x.png"], "either a desk CODE or --all"),
        (["desk", "qr", "--all", "--out", "/no/such/dir"], "does not exist"),
    ],
)
def test_bad_commands_fail_with_one_clear_line(
    initialised: CliRunner, args: list[str], message: str
) -> None:
    _add(initialised)
    result = _run(initialised, *args)
    assert result.exit_code != 0 and message in result.output
    assert "Traceback" not in result.output


def test_qr_files_decode_to_the_printed_url(initialised: CliRunner, tmp_path: Path) -> None:
    url = _add(initialised)
    for suffix in ("png", "svg", "pdf"):
        out = tmp_path / f"desk.{suffix}"
        assert _run(initialised, "desk", "qr", "PL-MC1", "--out", str(out)).exit_code == 0
    assert decode_png((tmp_path / "desk.png").read_bytes()) == url
    assert decode_svg((tmp_path / "desk.svg").read_bytes()) == url
    assert (tmp_path / "desk.pdf").read_bytes().startswith(b"%PDF")


def test_qr_all_writes_one_poster_per_active_desk(initialised: CliRunner, tmp_path: Path) -> None:
    _add(initialised, "A1")
    _add(initialised, "B2")
    _add(initialised, "C3")
    _run(initialised, "desk", "disable", "C3")
    posters = tmp_path / "posters"
    posters.mkdir()
    result = _run(initialised, "desk", "qr", "--all", "--out", str(posters), "--format", "png")
    assert result.exit_code == 0
    assert sorted(p.name for p in posters.iterdir()) == ["A1.png", "B2.png"]


def test_from_printed_qr_code_to_the_export(initialised: CliRunner, tmp_path: Path) -> None:
    """The whole flow: add a desk, print its QR, scan it, evaluate, export with the desk."""
    from survey.app import create_app

    _add(initialised)
    png = tmp_path / "qr.png"
    _run(initialised, "desk", "qr", "PL-MC1", "--out", str(png))
    scanned = urlparse(decode_png(png.read_bytes()))
    app = create_app()
    client = app.test_client()
    data = {**open_form(client, scanned.path), **GOOD_ANSWERS}
    assert client.post(scanned.path, data=data).status_code == 303
    app.extensions["sipas_engine"].dispose()
    out = tmp_path / "export.csv"
    result = _run(initialised, "export", "--format", "csv", "--out", str(out),
                  "--instrument", "desk_evaluation")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [(r["desk"], r["mode"], r["overall"]) for r in rows] == [("PL-MC1", "qr", "5")]


def test_bursts_command_reports_stuffing(initialised: CliRunner) -> None:
    from survey.app import create_app

    url = _add(initialised)
    app = create_app()
    app.config["DESK_LIMIT_DESK_ADDRESS"] = "100 per minute"
    client = app.test_client()
    path = urlparse(url).path
    assert "no suspicious bursts" in _run(initialised, "desk", "bursts").output
    for _ in range(6):
        client.post(path, data={**open_form(client, path), **GOOD_ANSWERS})
    app.extensions["sipas_engine"].dispose()
    report = _run(initialised, "desk", "bursts").output
    assert "PL-MC1" in report and "address" in report and "    6" in report
