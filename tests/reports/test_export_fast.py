"""The fast export paths give exactly what the plain ones gave.

- The XLSX data sheet written as text (``survey/services/data/xlsx.py``) is, member by member,
  the file openpyxl writes cell by cell (the old writer, kept here as the reference).
- CSV formula neutralising done per batch and column equals neutralising every cell.
- The answers of a batch read by id range alone (consecutive ids) equal those read through
  the filter's join, on both databases.
- Reading ahead in a thread hands on errors and stops when the reader stops.
"""

from __future__ import annotations

import csv
import io
import random
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlmodel import Session

from survey.services.data import export
from survey.services.data.ahead import read_ahead
from survey.services.data.cells import neutralise_formula
from survey.services.data.export import ExportFilter, export_rows, write_csv
from survey.services.data.xlsx import write_workbook

TEXTS = ["", " ", "  two spaces ", "a&b<c>d", "=1+1", "#N/A", "#DIV/0!", "'=2", "+84 912",
         "Cán bộ nhiệt tình, chu đáo", "dòng một\ndòng hai", "\r\n=cmd", "MC264", "\t tab",
         "2026-01-07T16:54:09+00:00", "x" * 300, "<t>", "]]>", "&amp;"]
NUMBERS = ["", "5", "0", "-3", "0.1", "1e-05", "0.30000000000000004", "123456789012345678",
           "2.5", "1234.5678", "7"]


def _reference_xlsx(header: list[str], numeric: list[bool], rows: list[list[str]],
                    variables: list[list[str]], path: Path) -> None:
    """The writer this replaced: openpyxl's write-only sheet, one cell object per value."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("data")
    head = []
    for name in header:
        cell = WriteOnlyCell(ws, value=name)
        cell.data_type, cell.font = "s", Font(bold=True)
        head.append(cell)
    ws.append(head)
    for row in rows:
        out: list[object] = []
        for is_num, value in zip(numeric, row, strict=True):
            if is_num:
                out.append(float(value) if value != "" else None)
            else:
                cell = WriteOnlyCell(ws, value=value)
                cell.data_type = "s"
                out.append(cell)
        ws.append(out)
    meta = wb.create_sheet("variables")
    for line in variables:
        cells = []
        for value in line:
            cell = WriteOnlyCell(meta, value=value)
            cell.data_type = "s"
            cells.append(cell)
        meta.append(cells)
    wb.save(path)


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as book:
        return {name: book.read(name) for name in book.namelist()
                if name != "docProps/core.xml"}  # the moment it was written


def test_the_streamed_data_sheet_is_the_file_openpyxl_writes(tmp_path: Path) -> None:
    rng = random.Random(14)
    numeric = [rng.random() < 0.5 for _ in range(30)]  # past column Z: two-letter columns
    header = [f"col {i}" for i in range(30)]
    rows = [[rng.choice(NUMBERS) if n else rng.choice(TEXTS) for n in numeric]
            for _ in range(400)]
    variables = [["variable", "label", "value labels"], ["q1", "Câu 1 & <2>", "1 = Tốt"]]
    ours, theirs = tmp_path / "ours.xlsx", tmp_path / "theirs.xlsx"
    assert write_workbook(header, numeric, iter(rows), variables, ours) == len(rows)
    _reference_xlsx(header, numeric, rows, variables, theirs)
    mine, reference = _members(ours), _members(theirs)
    assert list(mine) == list(reference)
    for name in reference:
        assert mine[name] == reference[name], name
    from openpyxl import load_workbook

    sheet = load_workbook(ours)["data"]
    back = [[c.value for c in r] for r in sheet.iter_rows(min_row=2, max_col=30)]
    for written, row in zip(back, rows, strict=True):
        for value, cell, is_num in zip(written, row, numeric, strict=True):
            if is_num:
                # 16 significant digits, as openpyxl writes every float
                assert value == (float(f"{float(cell):.16g}") if cell else None)
            else:
                assert (value or "") == cell.replace("\r\n", "\n")  # XML reads CR LF as LF


def test_what_openpyxl_could_not_write_is_still_a_workbook(tmp_path: Path) -> None:
    """A non-number in a numeric column becomes text, characters XML cannot hold are left
    out; the old writer failed on both (a 500 for a download)."""
    from openpyxl import load_workbook

    path = tmp_path / "odd.xlsx"
    rows = [["abc", "bell\x07 and nul\x00 gone"], ["nan", "ok"], ["inf", "x"], ["4", ""]]
    assert write_workbook(["n", "t"], [True, False], iter(rows), [], path) == 4
    sheet = load_workbook(path)["data"]
    assert [[c.value for c in r] for r in sheet.iter_rows(min_row=2)] == [
        ["abc", "bell and nul gone"], ["nan", "ok"], ["inf", "x"], [4, None]]


def test_an_xlsx_over_the_limit_leaves_no_file(tmp_path: Path) -> None:
    from survey.messages import UserError

    path = tmp_path / "long.xlsx"
    with pytest.raises(UserError, match="Excel cannot open"):
        write_workbook(["a"], [True], iter([["1"]] * 6), [], path, limit=5)
    assert list(tmp_path.iterdir()) == []  # no partial workbook, no temporary folder


def test_csv_neutralised_by_batch_and_column_equals_every_cell(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export, "STREAM_ROWS", 3)  # many batches, the last one short
    rng = random.Random(3)
    values = TEXTS + NUMBERS + ["=SUM(A1)", "-1.5", "@x", "＝1", "−2"]
    rows = [[rng.choice(values) for _ in range(6)] for _ in range(50)]
    ours = io.StringIO()
    assert write_csv(list("abcdef"), iter(rows), ours) == 50
    reference = io.StringIO()
    reference.write("\ufeff")
    writer = csv.writer(reference, lineterminator="\r\n")
    writer.writerow(list("abcdef"))
    for row in rows:
        writer.writerow([neutralise_formula(c) for c in row])
    assert ours.getvalue() == reference.getvalue()


@pytest.mark.parametrize("flt", [
    ExportFilter(), ExportFilter(instrument="desk_evaluation"),
    ExportFilter(status="verified"), ExportFilter(instrument="sipas_services", round_code="2025"),
], ids=["all", "desk", "verified", "households"])
def test_answers_by_id_range_equal_answers_through_the_filter(
        demo: Flask, monkeypatch: pytest.MonkeyPatch, flt: ExportFilter) -> None:
    monkeypatch.setattr(export, "STREAM_ROWS", 11)
    with Session(demo.extensions["sipas_engine"]) as session:
        monkeypatch.setattr(export, "DENSE", 0)  # never the range alone: the filter's join
        header, rows = export_rows(session, flt)
        joined = list(rows)
        monkeypatch.setattr(export, "DENSE", 10**9)  # always the range alone
        header_again, rows = export_rows(session, flt)
        ranged = list(rows)
    assert header_again == header and len(joined) > 10
    assert ranged == joined


def test_reading_ahead_hands_on_errors_and_stops_with_its_reader() -> None:
    def failing() -> Iterator[int]:
        yield 1
        yield 2
        raise RuntimeError("database gone")

    got: list[int] = []
    with pytest.raises(RuntimeError, match="database gone"):
        for item in read_ahead(failing()):
            got.append(item)
    assert got == [1, 2]

    finished = threading.Event()

    def endless() -> Iterator[int]:
        try:
            n = 0
            while True:
                n += 1
                yield n
        finally:
            finished.set()

    reader = read_ahead(endless(), depth=2)
    assert [next(reader) for _ in range(5)] == [1, 2, 3, 4, 5]
    reader.close()  # as a writer that gives up (Excel's row limit) does
    assert not any(t.name == "sipas-read-ahead" and t.is_alive()
                   for t in threading.enumerate())
    assert finished.wait(1)


def test_entry_moments_are_iso_utc_whatever_the_server_clock(demo: Flask) -> None:
    """The column says UTC: on PostgreSQL with the session on Vietnam's clock, and on SQLite
    (which stores UTC text), every moment is ISO 8601 in UTC to the second."""
    from datetime import UTC, datetime

    from sqlalchemy import text
    from sqlmodel import select

    from survey.models import Response

    with Session(demo.extensions["sipas_engine"]) as session:
        if session.get_bind().dialect.name == "postgresql":
            session.connection().execute(text("SET TimeZone = 'Asia/Ho_Chi_Minh'"))
        stored = {r.id: r.created_at for r in session.exec(select(Response))}
        header, rows = export_rows(session, ExportFilter())
        at, rid = header.index("created_at"), header.index("response_id")
        table = list(rows)
    assert len(table) == len(stored) > 10
    for row in table:
        moment = stored[int(row[rid])]
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        assert row[at] == moment.replace(microsecond=0).isoformat(), row[rid]
        assert datetime.fromisoformat(row[at]).utcoffset().total_seconds() == 0


def test_a_refused_xlsx_stops_the_reader_before_the_refusal_returns(
        demo: Flask, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Excel's row limit reached: the thread reading ahead and the cursors are done with
    before the error reaches the caller (which may use the connection again at once), even
    while the caller still holds the rows (here: a local name)."""
    from sqlalchemy import text

    from survey.messages import UserError

    monkeypatch.setattr(export, "STREAM_ROWS", 5)
    with Session(demo.extensions["sipas_engine"]) as session:
        header, rows = export_rows(session, ExportFilter())
        with pytest.raises(UserError):
            write_workbook(header, [False] * len(header), rows, [], tmp_path / "x.xlsx",
                           limit=7)
        assert not any(t.name == "sipas-read-ahead" and t.is_alive()
                       for t in threading.enumerate())
        assert session.connection().execute(text("SELECT count(*) FROM response")).scalar()
        assert rows is not None  # still referenced: only an explicit close stopped it


def test_two_exports_read_at_once_on_one_connection_and_numbers_stay_bounded(
        demo: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Interleaved reads of two exports on the same session (PostgreSQL: two server-side
    cursors, each with its own name) give the rows each gives alone; the number memo is
    bounded (here to 3 values) and still formats every value."""
    monkeypatch.setattr(export, "STREAM_ROWS", 4)
    monkeypatch.setattr(export._Numbers, "LIMIT", 3)
    with Session(demo.extensions["sipas_engine"]) as session:
        alone_a = list(export_rows(session, ExportFilter(status="verified"))[1])
        alone_b = list(export_rows(session, ExportFilter(instrument="desk_evaluation"))[1])
        _, a = export_rows(session, ExportFilter(status="verified"))
        _, b = export_rows(session, ExportFilter(instrument="desk_evaluation"))
        got_a, got_b = [], []
        sources = [(a, got_a), (b, got_b)]
        while sources:  # one row from each in turn, until both are read out
            for source in list(sources):
                row = next(source[0], None)
                if row is None:
                    sources.remove(source)
                else:
                    source[1].append(row)
    assert got_a == alone_a and got_b == alone_b and len(alone_a) > 10
