"""Are dossier volumes imported safely and used for coverage and volume weights?"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from survey.cli import main
from survey.services.desks.volumes import import_volumes, parse_volumes
from survey.services.reports.desk import desk_report
from survey.services.reports.period import parse_period

VOLUMES = """desk,period,dossiers
TTHCC,2025-Q3,1200
MC-TANPHU,2025-Q3,800
MC-LONGDIEN,2025-07,150
MC-LONGDIEN,2025-08,160
MC-LONGDIEN,2025-09,170
"""


def test_does_a_bad_line_reject_the_whole_file_and_name_the_line() -> None:
    desks = {"TTHCC": 1}
    with pytest.raises(ValueError, match="line 3: unknown desk 'NOPE'"):
        parse_volumes("desk,period,dossiers\nTTHCC,2025-Q3,5\nNOPE,2025-Q3,5\n", desks)
    with pytest.raises(ValueError, match="line 2: dossiers must be a whole number"):
        parse_volumes("desk,period,dossiers\nTTHCC,2025-Q3,-5\n", desks)
    with pytest.raises(ValueError, match="appear twice"):
        parse_volumes("ma_quay,ky,so_ho_so\nTTHCC,2025-Q3,5\nTTHCC,2025-q3,6\n", desks)
    with pytest.raises(ValueError, match="no 'dossiers' column"):
        parse_volumes("desk,period\nTTHCC,2025-Q3\n", desks)


def test_is_coverage_evaluations_over_dossiers_and_only_for_whole_periods(demo: Flask) -> None:
    with Session(demo.extensions["sipas_engine"]) as session:
        assert import_volumes(session, VOLUMES).inserted == 5
        report = desk_report(session, parse_period("2025-Q3"), weighted=True)
        desks = {d.key: d for d in report.desks}
        assert desks["TTHCC"].coverage == pytest.approx(desks["TTHCC"].evaluations / 1200)
        assert desks["MC-LONGDIEN"].dossiers == 480  # three months make the quarter
        assert desks["MC-LONGDIEN"].coverage is not None
        assert desks["MC-PHULAM"].coverage is None  # no volume: no coverage, no weight
        assert report.unweighted_desks == ("MC-PHULAM",)
        # weight = dossiers ÷ evaluations received, per desk (DESIGN.md §1)
        vols = {"TTHCC": 1200, "MC-TANPHU": 800, "MC-LONGDIEN": 480}
        w = {k: vols[k] / desks[k].evaluations for k in vols}
        n = {k: desks[k].headline.n for k in vols}
        yes = {k: desks[k].headline.estimate * n[k] for k in vols}  # type: ignore[operator]
        expected = sum(w[k] * yes[k] for k in vols) / sum(w[k] * n[k] for k in vols)
        assert report.overall_weighted is not None
        assert report.overall_weighted.estimate == pytest.approx(expected)
        month = desk_report(session, parse_period("2025-08"), weighted=True)
        assert {d.key: d.coverage for d in month.desks}["TTHCC"] is None  # quarterly count


def test_can_volumes_be_uploaded_in_the_browser_form(demo: Flask, client: FlaskClient) -> None:
    from tests.reports.conftest import login

    login(demo, client, "analyst")
    page = client.get("/reports/volumes").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token is not None
    done = client.post("/reports/volumes", data={
        "csrf_token": token.group(1),
        "file": (io.BytesIO(("\ufeff" + VOLUMES).encode()), "volumes.csv")},
        content_type="multipart/form-data", follow_redirects=True)
    html = done.get_data(as_text=True)
    assert "MC-LONGDIEN" in html and "1200" in html
    bad = client.post("/reports/volumes", data={
        "csrf_token": token.group(1),
        "file": (io.BytesIO(b"desk,period,dossiers\nX,2025-Q3,1\n"), "bad.csv")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "không có bộ phận mã" in bad.get_data(as_text=True)


def test_does_the_cli_import_and_list_volumes(demo: Flask, runner: CliRunner,
                                              cli_env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "v.csv"
    path.write_text(VOLUMES, encoding="utf-8")
    first = runner.invoke(main, ["volumes", "import", str(path)])
    assert first.exit_code == 0 and "imported 5 new and 0 replaced" in first.output
    again = runner.invoke(main, ["volumes", "import", str(path)])
    assert "0 new and 5 replaced" in again.output
    listed = runner.invoke(main, ["volumes", "list"])
    assert "TTHCC" in listed.output and "1200" in listed.output
    path.write_text("desk,period,dossiers\nTTHCC,Q3,1\n", encoding="utf-8")
    bad = runner.invoke(main, ["volumes", "import", str(path)])
    assert bad.exit_code == 1 and "line 2" in bad.output


def test_volumes_with_semicolons_import_like_commas() -> None:
    from survey.services.desks.volumes import parse_volumes

    comma = parse_volumes("desk,period,dossiers\nMC1,2025-Q3,120\n", {"MC1": 1})
    semicolon = parse_volumes("\ufeffma_quay;ky;so_ho_so\r\nMC1;2025-Q3;120\r\n", {"MC1": 1})
    assert semicolon == comma and comma[0][2] == 120
