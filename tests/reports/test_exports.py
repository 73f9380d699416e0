"""Do the four export formats carry the same rows, labels, and no formulas?"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from survey.cli import main
from survey.models import Answer
from tests.reports.conftest import login

FORMATS = ("csv", "xlsx", "sav", "dta")


def _plant_formula(app: Flask) -> int:
    """Give one verified response a comment that a spreadsheet would run as a formula."""
    with Session(app.extensions["sipas_engine"]) as session:
        session.add(Answer(response_id=1, item_code="comment",
                           value_text='=HYPERLINK("http://evil","x")'))
        session.commit()
    return 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_can_an_analyst_download_every_format(analyst: FlaskClient, fmt: str) -> None:
    page = analyst.get(f"/reports/exports/download?format={fmt}&status=verified&round=2025")
    assert page.status_code == 200
    assert f".{fmt}" in page.headers["Content-Disposition"]
    assert len(page.data) > 1000


def test_does_the_sav_open_with_value_labels_and_design_columns(
    analyst: FlaskClient, tmp_path: Path
) -> None:
    import pyreadstat

    page = analyst.get("/reports/exports/download?format=sav&status=verified&round=2025")
    path = tmp_path / "x.sav"
    path.write_bytes(page.data)
    frame, meta = pyreadstat.read_sav(str(path), user_missing=True)
    assert meta.variable_value_labels["c1_1"][5.0] == "Rất hài lòng"
    assert meta.variable_value_labels["c1_1"][9.0].startswith("Không trả lời")
    assert {"stratum", "psu", "weight", "prob_stage1"} <= set(frame.columns)
    assert meta.column_names_to_labels["weight"] == "Trọng số"
    assert frame["district"].str.startswith(("Huyện", "Thị xã")).all()
    assert meta.missing_ranges["c1_1"] == [{"lo": 9.0, "hi": 9.0}]
    csv_page = analyst.get("/reports/exports/download?format=csv&status=verified&round=2025")
    assert len(frame) == len(csv_page.data.decode("utf-8-sig").splitlines()) - 1


def test_does_the_dta_keep_labels_and_numbers(analyst: FlaskClient, tmp_path: Path) -> None:
    import pyreadstat

    page = analyst.get("/reports/exports/download?format=dta&status=verified&round=2025")
    path = tmp_path / "x.dta"
    path.write_bytes(page.data)
    frame, meta = pyreadstat.read_dta(str(path))
    assert meta.variable_value_labels["c3_1"][4] == "Hài lòng"
    assert frame["weight"].dtype.kind == "f" and (frame["weight"] > 0).all()
    assert frame["psu"].iloc[0].startswith("0")  # PSU codes stay text: leading zero kept


def test_are_comments_left_out_for_analysts_and_refused_when_asked(
    analyst: FlaskClient,
) -> None:
    page = analyst.get("/reports/exports/download?format=csv&status=verified")
    header = page.data.decode("utf-8-sig").splitlines()[0].split(",")
    assert "comment" not in header and "c1_1" in header
    refused = analyst.get("/reports/exports/download?format=csv&with_comments=1")
    assert refused.status_code == 403


def test_is_formula_injection_closed_in_csv_and_xlsx(demo: Flask, client: FlaskClient) -> None:
    from openpyxl import load_workbook

    _plant_formula(demo)
    login(demo, client, "supervisor")
    raw = client.get("/reports/exports/download?format=csv&with_comments=1").data
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    planted = next(r for r in rows if r["response_id"] == "1")
    assert planted["comment"] == "'=HYPERLINK(\"http://evil\",\"x\")"
    book = load_workbook(io.BytesIO(client.get(
        "/reports/exports/download?format=xlsx&with_comments=1").data))
    sheet = book["data"]
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("comment") + 1)
    assert cell.value == '=HYPERLINK("http://evil","x")' and cell.data_type == "s"
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    weight = sheet.cell(row=2, column=header.index("weight") + 1)
    assert isinstance(weight.value, float)


def test_does_the_cli_write_each_format(demo: Flask, runner: CliRunner,
                                        cli_env: dict[str, str], tmp_path: Path) -> None:
    counts = set()
    for fmt in FORMATS:
        out = tmp_path / f"round.{fmt}"
        result = runner.invoke(main, ["export", "--format", fmt, "--out", str(out),
                                      "--status", "verified", "--round", "2025"])
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 1000
        counts.add(result.output.split()[1])
    assert len(counts) == 1 and int(counts.pop()) > 200  # the same rows in every format
    bad = runner.invoke(main, ["export", "--format", "dta", "--out", str(tmp_path / "x.dta"),
                               "--period", "2025-13"])
    assert bad.exit_code == 1 and "the month must be 01 to 12" in bad.output


def test_bad_numbers_and_names_in_the_query_are_never_a_500(demo, analyst) -> None:  # type: ignore[no-untyped-def]
    """Issue 15: min_n=inf overflowed; a newline in the round code broke the header."""
    from sqlmodel import Session, func, select

    from survey.models import AuditLog

    for value in ("inf", "-inf", "1e400", "nan", "-5", "99999999999"):
        assert analyst.get(f"/reports/?min_n={value}&target={value}").status_code == 200, value

    def audits() -> int:
        with Session(demo.extensions["sipas_engine"]) as session:
            return int(session.exec(select(func.count()).select_from(AuditLog).where(
                AuditLog.action == "export")).one())

    before = audits()
    for code in ("a%0Ab", 'x"%3B filename*=UTF-8\'\'evil.exe', "no-such-round"):
        reply = analyst.get(f"/reports/exports/download?format=csv&round={code}")
        assert reply.status_code == 400, code
    assert audits() == before  # nothing audited for a refused download
    good = analyst.get("/reports/exports/download?format=csv&round=2025")
    assert good.status_code == 200
    assert good.headers["Content-Disposition"] == 'attachment; filename="sipas-2025-all.csv"'
    assert audits() == before + 1


def test_a_download_name_keeps_only_safe_characters() -> None:
    from survey.views.files import disposition

    assert disposition('a"\r\nb; filename*=x.csv') == 'attachment; filename="a_b_filename_x.csv"'
    assert disposition("Đợt 2025.pdf", inline=True) == 'inline; filename="t_2025.pdf"'


def _download(analyst: FlaskClient, fmt: str, tmp_path: Path) -> Path:
    page = analyst.get(f"/reports/exports/download?format={fmt}&status=verified&round=2025")
    assert page.status_code == 200
    path = tmp_path / f"x.{fmt}"
    path.write_bytes(page.data)
    return path


def test_multi_select_answers_get_one_0_1_column_per_choice(analyst: FlaskClient) -> None:
    """e_levels ("1 3") keeps its string and gains e_levels_1 … e_levels_N next to it."""
    page = analyst.get("/reports/exports/download?format=csv&status=verified&round=2025")
    rows = list(csv.DictReader(io.StringIO(page.data.decode("utf-8-sig"))))
    header = list(rows[0])
    at = header.index("e_levels")
    choices = [h for h in header if h.startswith("e_levels_")]
    assert choices and header[at + 1:at + 1 + len(choices)] == choices
    checked = 0
    for row in rows:
        chosen = set(row["e_levels"].split())
        for column in choices:
            code = column.removeprefix("e_levels_")
            if not chosen or chosen == {"9"}:
                assert row[column] == "", row
            else:
                assert row[column] == ("1" if code in chosen else "0"), row
                checked += 1
    assert checked > 0


def test_spss_declares_missing_and_measurement_levels(analyst: FlaskClient,
                                                     tmp_path: Path) -> None:
    import pyreadstat

    _frame, meta = pyreadstat.read_sav(str(_download(analyst, "sav", tmp_path)),
                                       user_missing=True)
    assert meta.variable_measure["c1_1"] == "ordinal"  # a 1–5 scale
    assert meta.variable_measure["a_sex"] == "nominal"
    assert meta.variable_measure["weight"] == "scale"
    assert meta.variable_measure["e_levels_1"] == "nominal"
    assert meta.variable_value_labels["e_levels_1"] == {0.0: "Không chọn", 1.0: "Có chọn"}


def test_stata_keeps_no_answer_as_declared_missing_not_as_9(analyst: FlaskClient,
                                                            tmp_path: Path) -> None:
    """Stata has no user-missing values: 9 "Không trả lời" becomes .a, labelled, so a mean
    in Stata never counts it as a score of 9."""
    import pyreadstat

    path = _download(analyst, "dta", tmp_path)
    frame, meta = pyreadstat.read_dta(str(path), user_missing=True)
    sav, _ = pyreadstat.read_sav(str(_download(analyst, "sav", tmp_path)), user_missing=True)
    nines = int((sav["c1_1"] == 9).sum())
    assert nines > 0, "the demo has no 'no answer' to check"
    assert int((frame["c1_1"] == "a").sum()) == nines
    assert meta.missing_user_values["c1_1"] == ["a"]
    assert meta.variable_value_labels["c1_1"]["a"].startswith("Không trả lời")
    plain, _ = pyreadstat.read_dta(str(path))  # as Stata computes: missing, never 9
    assert not (plain["c1_1"] == 9).any() and plain["c1_1"].max() <= 5


def test_entry_times_are_dates_in_spss_and_stata(analyst: FlaskClient, tmp_path: Path) -> None:
    import pyreadstat

    for fmt, read in (("sav", pyreadstat.read_sav), ("dta", pyreadstat.read_dta)):
        frame, _meta = read(str(_download(analyst, fmt, tmp_path)))
        assert frame["created_at"].dtype.kind == "M", fmt
        assert frame["created_at"].notna().all() and frame["created_at"].dt.year.min() >= 2020


def test_an_xlsx_longer_than_excel_opens_is_refused_not_cut(
        analyst: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from survey.services.data import formats

    monkeypatch.setattr(formats, "XLSX_MAX_ROWS", 5)  # the demo has more rows than that
    page = analyst.get("/reports/exports/download?format=xlsx&status=verified&round=2025")
    assert page.status_code == 400
    assert "Excel không mở được" in page.get_data(as_text=True)
    csv_page = analyst.get("/reports/exports/download?format=csv&status=verified&round=2025")
    assert csv_page.status_code == 200  # CSV has no such limit


def test_the_codebook_describes_every_column_of_the_same_export(analyst: FlaskClient) -> None:
    """One row per column of the CSV with the same filters, in the same order: labels in
    both languages, type, codes with labels, the missing code, the skip rule, the versions;
    the 0/1 column of each choice points to its question."""
    import csv
    import io

    query = "status=verified&round=2025"
    data = analyst.get(f"/reports/exports/download?format=csv&{query}").data.decode("utf-8-sig")
    page = analyst.get(f"/reports/exports/download?format=codebook&{query}")
    assert page.status_code == 200
    assert "-codebook.csv" in page.headers["Content-Disposition"]
    header = next(csv.reader(io.StringIO(data)))
    book = list(csv.DictReader(io.StringIO(page.data.decode("utf-8-sig"))))
    assert [r["variable"] for r in book] == header
    by = {r["variable"]: r for r in book}
    assert by["weight"]["label_vi"] == "Trọng số" and by["weight"]["label_en"] == "Weight"
    assert by["weight"]["type"] == "number" and by["weight"]["source"] == "design"
    c = by["c1_1"]
    assert c["type"] == "integer (code)" and c["measure"] == "ordinal"
    assert "5 = Rất hài lòng" in c["codes_vi"] and c["missing_code"] == "9"
    assert c["codes_en"].startswith("1 = ") and "9 = " in c["codes_en"]
    assert c["label_en"] and c["label_en"] != c["label_vi"]
    assert c["form_versions"].startswith("sipas_services ")
    assert any(r["skip_rule"] for r in book if r["source"] == "question")
    choice = next(r for r in book if r["source"].startswith("choice of "))
    parent = by[choice["source"].removeprefix("choice of ")]
    assert choice["type"] == "integer (0/1)" and choice["skip_rule"] == parent["skip_rule"]
    assert choice["label_vi"].startswith(parent["label_vi"])
    assert "comment" not in by  # free text left out, as in the export itself


@pytest.mark.parametrize("what", [[], ["--with-comments"], ["--instrument", "desk_evaluation"]],
                         ids=["households-and-desks", "with-comments", "desks"])
def test_a_csv_export_carries_a_data_package_frictionless_accepts(
    analyst: FlaskClient, runner: CliRunner, cli_env: dict[str, str], tmp_path: Path,
    what: list[str],
) -> None:
    """``x.csv`` gets ``x.datapackage.json`` (Table Schema: types, titles, the codes an answer
    may take, what is missing); ``frictionless validate`` reads every row against it. (Its
    first run found demo desk evaluations with a 9 where the form allows none.)"""
    import json

    from frictionless import validate

    out = tmp_path / "x.csv"
    done = runner.invoke(main, ["export", "--out", str(out), *what])
    assert done.exit_code == 0, done.output
    package = tmp_path / "x.datapackage.json"
    descriptor = json.loads(package.read_text(encoding="utf-8"))
    fields = descriptor["resources"][0]["schema"]["fields"]
    header = out.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert [f["name"] for f in fields] == header
    report = validate(str(package))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]
    assert report.tasks[0].stats["rows"] == descriptor["resources"][0]["stats"]["rows"] > 10
