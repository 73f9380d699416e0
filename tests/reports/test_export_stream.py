"""Does the streamed export give every response its own answers, and the period filter in
SQL the same rows as filtering the whole export afterwards?"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from sqlmodel import Session, select

from survey.models import Answer
from survey.services.data import export
from survey.services.data.export import ExportFilter, export_rows


def test_are_streamed_rows_the_rows_and_periods_cut_in_sql(demo: Flask, monkeypatch) -> None:
    monkeypatch.setattr(export, "STREAM_ROWS", 7)  # many fetches, merged across batches
    with Session(demo.extensions["sipas_engine"]) as session:
        header, rows = export_rows(session, ExportFilter())
        table = list(rows)
        assert len(table) > 100
        at, rid = header.index("created_at"), header.index("response_id")
        for row in table[:: max(1, len(table) // 25)]:
            stored = {a.item_code: a for a in session.exec(
                select(Answer).where(Answer.response_id == int(row[rid])))}
            for code, answer in stored.items():
                if code in header:
                    cell = row[header.index(code)]
                    expected = answer.value_text if answer.value_text is not None else \
                        export._format_number(answer.value_num)
                    assert cell == expected, (row[rid], code)
            assert sum(1 for h in header[len(export.DESIGN_COLUMNS):]
                       if row[header.index(h)] != "") == \
                len([c for c in stored if c in header])
        start, end = datetime(2025, 8, 1, tzinfo=UTC), datetime(2025, 9, 1, tzinfo=UTC)
        cut_header, cut = export_rows(session, ExportFilter(start=start, end=end))
        cut_rows = list(cut)
        # only the questionnaires entered that month: their own columns, the same cells
        keep = [header.index(h) for h in cut_header]
        by_date = [[r[k] for k in keep] for r in table
                   if "2025-08-01" <= r[at][:10] < "2025-09-01"]
        assert cut_rows == by_date and 0 < len(cut_rows) < len(table)


def test_xlsx_text_that_openpyxl_would_read_as_a_formula_or_an_error_stays_text(
    tmp_path,
) -> None:
    """Plain strings are handed to openpyxl as they are (40 % faster); the two kinds it
    would turn into something else ("=…" a formula, "#N/A" an error) are marked as text."""
    from openpyxl import load_workbook

    from survey.services.data.formats import Columns, _write_xlsx

    cols = Columns(names=("comment", "score"), labels={}, value_labels={},
                   numeric=frozenset({"score"}), free_text=frozenset({"comment"}), missing={})
    values = ["=1+1", "#N/A", "#DIV/0!", "=", "Cán bộ nhiệt tình", "", "'=2"]
    path = tmp_path / "t.xlsx"
    assert _write_xlsx(cols, iter([[v, "4"] for v in values]), path) == len(values)
    sheet = load_workbook(path)["data"]
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert all(c.data_type not in ("f", "e") for c in cells)  # never a formula or an error
    assert [c.value or "" for c in cells] == values
    assert [row[1].value for row in sheet.iter_rows(min_row=2)] == [4] * len(values)
