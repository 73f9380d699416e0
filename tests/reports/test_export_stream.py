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
