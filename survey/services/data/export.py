"""Exporting responses as one row per response, with the design columns first.

The file is meant to be analysed as it is by ``sipas estimate``, R, Stata or SPSS, so it
carries stratum, PSU, probabilities and weight beside the answers. Dossier codes are
never exported (only their keyed hash is stored at all).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import text
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


def check_filter(flt: ExportFilter) -> None:
    valid = {s.value for s in ReviewStatus}
    if flt.status is not None and flt.status not in valid:
        raise ValueError(f"unknown status {flt.status!r}; choose one of {', '.join(sorted(valid))}")


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
WHERE (CAST(:status AS VARCHAR) IS NULL OR r.status = :status)
  AND (CAST(:round AS VARCHAR) IS NULL OR sr.code = :round)
  AND (CAST(:instrument AS VARCHAR) IS NULL OR i.code = :instrument)
ORDER BY r.id
"""

_ANSWERS_SQL = """
SELECT a.response_id, a.item_code, a.value_num, a.value_text
FROM answer a
JOIN response r ON r.id = a.response_id
JOIN instrument_version iv ON iv.id = r.instrument_version_id
JOIN instrument i ON i.id = iv.instrument_id
LEFT JOIN survey_round sr ON sr.id = r.round_id
WHERE (CAST(:status AS VARCHAR) IS NULL OR r.status = :status)
  AND (CAST(:round AS VARCHAR) IS NULL OR sr.code = :round)
  AND (CAST(:instrument AS VARCHAR) IS NULL OR i.code = :instrument)
"""


def _format_number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def export_rows(session: Session, flt: ExportFilter) -> tuple[list[str], Iterator[list[str]]]:
    """The header and the rows (as text) of an export; two queries, no per-row SQL."""
    check_filter(flt)
    params = {"status": flt.status, "round": flt.round_code, "instrument": flt.instrument}
    responses = session.connection().execute(text(_RESPONSES_SQL), params).mappings().all()
    version_ids = sorted({row["iv_id"] for row in responses})
    item_columns: list[str] = []
    seen: set[str] = set()
    for version in session.exec(
        select(InstrumentVersion).where(InstrumentVersion.id.in_(version_ids))  # type: ignore[union-attr]
    ):
        for code in item_codes_of(version.source_text):
            if code not in seen:
                seen.add(code)
                item_columns.append(code)
    answers: dict[int, dict[str, str]] = {}
    for rid, code, num, txt in session.connection().execute(text(_ANSWERS_SQL), params):
        answers.setdefault(rid, {})[code] = txt if txt is not None else _format_number(num)
    geo = ancestry_table(session)
    header = list(DESIGN_COLUMNS) + item_columns

    def rows() -> Iterator[list[str]]:
        for r in responses:
            names = geo.get(r["unit_id"], {}) if r["unit_id"] is not None else {}
            fixed: list[Any] = [
                r["id"], r["instrument"], r["instrument_version"], r["round"], r["mode"],
                r["status"], r["outcome"], *(names.get(level) for level in GEO_LEVELS),
                r["stratum"], r["psu"], _format_number(r["prob_stage1"]),
                _format_number(r["prob_stage2"]), _format_number(r["weight"]),
                r["questionnaire_id"], r["enumerator"], r["desk"], _format_time(r["created_at"]),
            ]  # fmt: skip
            mine = answers.get(r["id"], {})
            yield ["" if v is None else str(v) for v in fixed] + [
                mine.get(code, "") for code in item_columns
            ]

    return header, rows()


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
