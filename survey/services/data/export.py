"""Exporting responses as one row per response, with the design columns first.

The file is meant to be analysed as it is by ``sipas estimate``, R, Stata or SPSS, so it
carries stratum, PSU, probabilities and weight beside the answers. Dossier codes are
never exported (only their keyed hash is stored at all).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import DateTime, bindparam, text
from sqlmodel import Session, select

from survey.models import InstrumentVersion, ReviewStatus
from survey.services.data.cells import neutralise_formula
from survey.services.geography import ancestry_table
from survey.services.instruments_text import item_codes_of

DESIGN_COLUMNS = (
    "response_id", "instrument", "instrument_version", "round", "mode", "status", "outcome",
    "province", "district", "commune", "hamlet", "stratum", "psu", "prob_stage1",
    "prob_stage2", "weight", "questionnaire_id", "enumerator", "desk", "created_at",
)  # fmt: skip
GEO_LEVELS = ("province", "district", "commune", "hamlet")


@dataclass(frozen=True)
class ExportFilter:
    status: str | None = None
    round_code: str | None = None
    instrument: str | None = None
    start: datetime | None = None  # entered at or after (UTC)
    end: datetime | None = None  # entered before


def check_filter(flt: ExportFilter) -> None:
    valid = {s.value for s in ReviewStatus}
    if flt.status is not None and flt.status not in valid:
        raise ValueError(f"unknown status {flt.status!r}; choose one of {', '.join(sorted(valid))}")


_FILTER = """
WHERE (CAST(:status AS VARCHAR) IS NULL OR r.status = :status)
  AND (CAST(:round AS VARCHAR) IS NULL OR sr.code = :round)
  AND (CAST(:instrument AS VARCHAR) IS NULL OR i.code = :instrument)
  AND (CAST(:start AS VARCHAR) IS NULL OR r.created_at >= :start)
  AND (CAST(:end AS VARCHAR) IS NULL OR r.created_at < :end)
"""
_FROM = """
FROM response r
JOIN instrument_version iv ON iv.id = r.instrument_version_id
JOIN instrument i ON i.id = iv.instrument_id
LEFT JOIN survey_round sr ON sr.id = r.round_id
"""
_VERSIONS_SQL = "SELECT DISTINCT r.instrument_version_id" + _FROM + _FILTER

_RESPONSES_SQL = """
SELECT r.id, i.code AS instrument, iv.version AS instrument_version, iv.id AS iv_id,
       sr.code AS round, r.mode, r.status, r.outcome, r.unit_id, r.stratum, r.psu,
       r.prob_stage1, r.prob_stage2, r.weight, r.questionnaire_id,
       u.username AS enumerator, d.code AS desk, r.created_at
FROM response r
JOIN instrument_version iv ON iv.id = r.instrument_version_id
JOIN instrument i ON i.id = iv.instrument_id
LEFT JOIN survey_round sr ON sr.id = r.round_id
LEFT JOIN user_account u ON u.id = r.enumerator_id
LEFT JOIN desk d ON d.id = r.desk_id
""" + _FILTER + "ORDER BY r.id"

_ANSWERS_SQL = """
SELECT a.response_id, a.item_code, a.value_num, a.value_text
FROM answer a
JOIN response r ON r.id = a.response_id
JOIN instrument_version iv ON iv.id = r.instrument_version_id
JOIN instrument i ON i.id = iv.instrument_id
LEFT JOIN survey_round sr ON sr.id = r.round_id
""" + _FILTER + "AND a.response_id BETWEEN :first AND :last AND r.id BETWEEN :first AND :last"
STREAM_ROWS = 5000  # responses per batch: read from a server-side cursor, answers by range


def _query(sql: str):  # type: ignore[no-untyped-def]
    """The SQL with its moments typed, so each dialect binds them as it stores them."""
    return text(sql).bindparams(bindparam("start", type_=DateTime(timezone=True)),
                                bindparam("end", type_=DateTime(timezone=True)))


def _format_number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def export_rows(session: Session, flt: ExportFilter) -> tuple[list[str], Iterator[list[str]]]:
    """The header and the rows (as text) of an export, streamed in constant memory.

    Responses come from a server-side cursor in id order, a batch at a time; each batch's
    answers are one range scan of the answer table's key (no sort of millions of answers):
    a million evaluations never sit in memory at once.
    """
    check_filter(flt)
    params = {"status": flt.status, "round": flt.round_code, "instrument": flt.instrument,
              "start": flt.start, "end": flt.end}
    conn = session.connection()
    version_ids = sorted(v for (v,) in conn.execute(_query(_VERSIONS_SQL), params))
    item_columns: list[str] = []
    seen: set[str] = set()
    for version in session.exec(
        select(InstrumentVersion).where(InstrumentVersion.id.in_(version_ids))  # type: ignore[union-attr]
        .order_by(InstrumentVersion.id)  # type: ignore[arg-type]
    ):
        for code in item_codes_of(version.source_text):
            if code not in seen:
                seen.add(code)
                item_columns.append(code)
    geo = ancestry_table(session)
    header = list(DESIGN_COLUMNS) + item_columns

    def rows() -> Iterator[list[str]]:
        result = conn.execute(_query(_RESPONSES_SQL).execution_options(
            stream_results=True, yield_per=STREAM_ROWS), params).mappings()
        try:
            while batch := result.fetchmany(STREAM_ROWS):
                # the answers of exactly these responses: one range scan of answer's key
                answers: dict[int, dict[str, str]] = {}
                for rid, code, num, txt in conn.execute(_query(_ANSWERS_SQL), {
                        **params, "first": batch[0]["id"], "last": batch[-1]["id"]}).all():
                    answers.setdefault(rid, {})[code] = \
                        txt if txt is not None else _format_number(num)
                for r in batch:
                    yield _row(r, answers.get(r["id"], {}), geo, item_columns)
        finally:  # a reader that stops early (Excel's row limit) still frees the cursor
            result.close()

    return header, rows()


def _row(r: Any, mine: dict[str, str], geo: dict[int, dict[str, str]],
         item_columns: list[str]) -> list[str]:
    """One response as text cells: design columns, then its answers."""
    names = geo.get(r["unit_id"], {}) if r["unit_id"] is not None else {}
    fixed: list[Any] = [
        r["id"], r["instrument"], r["instrument_version"], r["round"], r["mode"],
        r["status"], r["outcome"], *(names.get(level) for level in GEO_LEVELS),
        r["stratum"], r["psu"], _format_number(r["prob_stage1"]),
        _format_number(r["prob_stage2"]), _format_number(r["weight"]),
        r["questionnaire_id"], r["enumerator"], r["desk"], _format_time(r["created_at"]),
    ]  # fmt: skip
    return ["" if v is None else str(v) for v in fixed] + [
        mine.get(code, "") for code in item_columns
    ]


def _format_time(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return value.replace(microsecond=0).isoformat()


def write_csv(header: Sequence[str], rows: Iterator[list[str]], out: IO[str]) -> int:
    """Write UTF-8 CSV with a BOM (so Excel shows Vietnamese); return the row count."""
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")  # CRLF: a lone CR in a cell gets quoted
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow([neutralise_formula(cell) for cell in row])
        count += 1
    return count


def export_csv(session: Session, flt: ExportFilter, path: Path) -> int:
    """Write the export to ``path`` atomically (a partial file never replaces a good one)."""
    header, rows = export_rows(session, flt)
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        count = write_csv(header, rows, handle)
    tmp.replace(path)
    return count
