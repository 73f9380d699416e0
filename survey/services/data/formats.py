"""Exports as CSV, XLSX, SPSS ``.sav`` and Stata ``.dta``, with variable and value labels.

All four start from the same ``export_rows`` (design columns first, then the items), so a
file opened in Excel, SPSS, Stata or R holds the same responses and can be analysed with
its design at once. Free-text answers (comments, "other, specify") may name people: they
are left out unless the caller asks and is allowed to (see ``TEXT_ROLES``).

Formula injection: CSV cells starting with = + - @ tab CR are prefixed with ' (the lead's
``write_csv``); in XLSX every text value is written as a string cell, never a formula;
SAV and DTA carry values unchanged (they have no formulas; control characters are refused
at input).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from operator import itemgetter
from pathlib import Path

from sqlmodel import Session, select

from survey.models import InstrumentVersion
from survey.services.data.codebook import HEADER as CODEBOOK_HEADER
from survey.services.data.codebook import codebook_rows
from survey.services.data.export import ExportFilter, export_rows, filter_versions, write_csv
from survey.services.data.xlsx import XLSX_MAX_ROWS, write_workbook
from survey.services.instruments_text import parse_stored
from survey.services.reports.period import Period

FORMATS = ("csv", "xlsx", "sav", "dta", "codebook")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8", "codebook": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "sav": "application/x-spss-sav",
    "dta": "application/x-stata-dta",
}
TEXT_ROLES = frozenset({"admin", "supervisor"})
NUMERIC_TYPES = frozenset({"scale", "select_one", "integer", "decimal"})
DESIGN_LABELS = {
    "response_id": "Mã phiếu trong hệ thống", "instrument": "Bảng hỏi",
    "instrument_version": "Phiên bản bảng hỏi", "round": "Đợt khảo sát",
    "mode": "Hình thức (paper/qr)", "status": "Trạng thái kiểm tra",
    "outcome": "Kết quả phỏng vấn", "province": "Tỉnh", "district": "Huyện",
    "commune": "Xã", "hamlet": "Thôn/ấp/tổ dân phố", "stratum": "Tầng (strata)",
    "psu": "Đơn vị mẫu bậc 1 (PSU)", "prob_stage1": "Xác suất chọn bậc 1",
    "prob_stage2": "Xác suất chọn bậc 2", "weight": "Trọng số", "questionnaire_id": "Mã phiếu",
    "enumerator": "Người nhập liệu", "desk": "Bộ phận một cửa",
    "created_at": "Thời điểm nhập (giờ UTC)",
}
NUMERIC_DESIGN = ("response_id", "prob_stage1", "prob_stage2", "weight")
MEASURES = {"scale": "ordinal", "select_one": "nominal", "select_multiple": "nominal",
            "integer": "scale", "decimal": "scale", "text": "nominal"}
CHOSEN = {0: "Không chọn", 1: "Có chọn"}
_NAME_SAFE = re.compile(r"^[A-Za-z0-9_]{1,20}$")
STATA_MISSING = "a"  # the declared "no answer" code is Stata's extended missing .a


@dataclass(frozen=True)
class Columns:
    """What the labelled formats need to know about each export column."""

    names: tuple[str, ...]
    labels: dict[str, str]
    value_labels: dict[str, dict[int, str]]
    numeric: frozenset[str]
    free_text: frozenset[str]
    missing: dict[str, int]
    # SPSS measurement level per column (nominal, ordinal, scale)
    measure: dict[str, str] = field(default_factory=dict)
    # select-multiple items: their choice codes, for one 0/1 column per choice
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)


def describe_columns(session: Session, header: list[str]) -> Columns:
    """Labels, value labels and types of the export columns, from the stored instruments."""
    labels = dict(DESIGN_LABELS)
    values: dict[str, dict[int, str]] = {}
    numeric, free_text = set(NUMERIC_DESIGN), set()
    missing: dict[str, int] = {}
    measure = {name: "scale" for name in NUMERIC_DESIGN}
    multi: dict[str, tuple[str, ...]] = {}
    for version in session.exec(select(InstrumentVersion)):
        form = parse_stored(version.source_text)
        for item in form.questions:
            if item.code not in header or item.code in DESIGN_LABELS:
                continue
            labels.setdefault(item.code, item.label.get("vi", item.code))
            if item.type in NUMERIC_TYPES:
                numeric.add(item.code)
            measure.setdefault(item.code, MEASURES.get(item.type, "nominal"))
            if item.type == "text":
                free_text.add(item.code)
            choices = item.choices or (form.scale if item.type == "scale" else ())
            vl = {int(c.code): c.label.get("vi", str(c.code)) for c in choices
                  if str(c.code).lstrip("-").isdigit()}
            if item.na_allowed and item.missing_code is not None:
                vl[int(item.missing_code)] = (form.missing_label or {}).get("vi", "Không trả lời")
                missing[item.code] = int(item.missing_code)
            if vl and item.type in NUMERIC_TYPES:
                values.setdefault(item.code, vl)
            if item.type == "select_multiple" and item.code not in multi:
                picks = tuple(str(c.code) for c in item.choices if _NAME_SAFE.match(str(c.code)))
                multi[item.code] = picks
                for c in item.choices:
                    if str(c.code) in picks:
                        name = f"{item.code}_{c.code}"
                        labels.setdefault(name, f"{labels[item.code]}: "
                                                f"{c.label.get('vi', str(c.code))}"[:250])
                        values.setdefault(name, dict(CHOSEN))
                        measure.setdefault(name, "nominal")
    return Columns(tuple(header), labels, values, frozenset(numeric & set(header)),
                   frozenset(free_text & set(header)), missing, measure, multi)


def with_choice_columns(cols: Columns, rows: Iterator[list[str]]
                        ) -> tuple[Columns, Iterator[list[str]]]:
    """One 0/1 column per choice right after each select-multiple answer (kept as the
    space-separated string too): 1 chosen, 0 not chosen, empty when the item has no answer
    (not asked, or its missing code), so that a mean of the column is a share of those asked.
    """
    spots = [(cols.names.index(code), code, picks) for code, picks in cols.choices.items()
             if code in cols.names and picks]
    if not spots:
        return cols, rows
    names: list[str] = []
    after = {at: (code, picks) for at, code, picks in spots}
    for at, name in enumerate(cols.names):
        names.append(name)
        if at in after:
            names.extend(f"{after[at][0]}_{c}" for c in after[at][1])
    added = {n for n in names if n not in cols.names}
    expanded = replace(cols, names=tuple(names), numeric=cols.numeric | added)

    # per select-multiple column, in order: its place, its choices, its missing code, and
    # the cells it gets when unanswered
    cuts = [(at, picks, str(cols.missing[code]) if code in cols.missing else None,
             [""] * len(picks)) for at, (code, picks) in sorted(after.items())]

    def widen(row: list[str]) -> list[str]:
        # the cells between the select-multiple columns are copied as slices, not one by one
        out: list[str] = []
        start = 0
        for at, picks, missing, blank in cuts:
            out += row[start:at + 1]
            chosen = set(row[at].split())
            if not chosen or chosen == {missing}:
                out += blank
            else:
                out += ["1" if c in chosen else "0" for c in picks]
            start = at + 1
        out += row[start:]
        return out
    return expanded, (widen(r) for r in rows)


def _in_period(flt: ExportFilter, period: Period | None) -> ExportFilter:
    if period is None:
        return flt
    return replace(flt, start=datetime(period.start.year, period.start.month,  # UTC days,
                                       period.start.day, tzinfo=UTC),  # as stored moments
                   end=datetime(period.end.year, period.end.month, period.end.day, tzinfo=UTC))


def selected_export(session: Session, flt: ExportFilter, with_text: bool,
                    period: Period | None = None, versions: list[int] | None = None
                    ) -> tuple[Columns, Iterator[list[str]]]:
    """The columns and rows of an export as every format writes it (free text left out
    unless asked, a 0/1 column per choice); ``versions`` as in :func:`export_rows`."""
    header, rows = export_rows(session, _in_period(flt, period), versions)
    cols = describe_columns(session, header)
    if not with_text and cols.free_text:
        keep = [i for i, h in enumerate(header) if h not in cols.free_text]
        cols = replace(cols, names=tuple(header[i] for i in keep), free_text=frozenset())
        pick = itemgetter(*keep)  # the design columns are always kept: a tuple of many
        rows = (list(pick(r)) for r in rows)
    return with_choice_columns(cols, rows)


def _number(cell: str) -> float | None:
    return float(cell) if cell != "" else None


def write_export(session: Session, flt: ExportFilter, fmt: str, path: Path,
                 with_text: bool = False, period: Period | None = None,
                 package: bool = False) -> int:
    """Write an export file in ``fmt`` to ``path`` (atomically); return the row count.

    ``period`` keeps the responses entered in it (by ``created_at``). ``package`` writes a
    Frictionless ``<name>.datapackage.json`` beside a CSV.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    cols, rows = selected_export(session, flt, with_text, period)
    tmp = path.with_name(path.name + ".part")
    if fmt == "codebook":  # the columns, not the rows: the reader never starts
        rows.close()  # type: ignore[attr-defined]
        book = codebook_rows(session, cols, filter_versions(session, _in_period(flt, period)))
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            count = write_csv(CODEBOOK_HEADER, iter(book), handle)
    elif fmt == "csv":
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            count = write_csv(list(cols.names), rows, handle)
    elif fmt == "xlsx":
        count = _write_xlsx(cols, rows, tmp)
    else:
        count = _write_stat(cols, rows, tmp, fmt)
    tmp.replace(path)
    if package and fmt == "csv":
        from survey.services.data.datapackage import write_descriptor

        write_descriptor(cols, path, count)
    return count


def export_bytes(session: Session, flt: ExportFilter, fmt: str, with_text: bool = False,
                 period: Period | None = None) -> tuple[bytes, int]:
    """The export as bytes (for a download), through a private temporary folder."""
    with tempfile.TemporaryDirectory(prefix="sipas-export-") as folder:
        path = Path(folder) / f"export.{fmt}"
        count = write_export(session, flt, fmt, path, with_text, period)
        return path.read_bytes(), count


def _write_xlsx(cols: Columns, rows: Iterator[list[str]], path: Path) -> int:
    """Numbers as numbers; every other value as a string cell (never a formula)."""
    variables = [["variable", "label", "value labels"]] + [
        [name, cols.labels.get(name, ""),
         "; ".join(f"{k} = {v}" for k, v in sorted(cols.value_labels.get(name, {}).items()))]
        for name in cols.names]
    return write_workbook(cols.names, [name in cols.numeric for name in cols.names], rows,
                          variables, path, limit=XLSX_MAX_ROWS)


def _write_stat(cols: Columns, rows: Iterator[list[str]], path: Path, fmt: str) -> int:
    """SPSS or Stata file with variable labels, value labels (and SPSS user-missing codes)."""
    import pandas as pd
    import pyreadstat

    table = list(rows)
    data = {}
    for j, name in enumerate(cols.names):
        values = [r[j] for r in table]
        if name in cols.numeric:
            data[name] = pd.array([_number(v) for v in values], dtype="Float64").astype(float)
        elif name == "created_at":  # a date-time variable, not a string (UTC, as stored)
            data[name] = pd.to_datetime(pd.Series(values, dtype=object), utc=True,
                                        errors="coerce").dt.tz_localize(None)
        else:
            data[name] = pd.Series(values, dtype=object)
    frame = pd.DataFrame(data, columns=list(cols.names))
    labels = {n: cols.labels.get(n, "")[: 80 if fmt == "dta" else 250] for n in cols.names}
    values = {k: v for k, v in cols.value_labels.items() if k in cols.names}
    declared = {k: v for k, v in cols.missing.items() if k in cols.names and k in cols.numeric}
    if fmt == "sav":
        pyreadstat.write_sav(frame, str(path), column_labels=labels,
                             variable_value_labels=values,
                             missing_ranges={k: [v if k in cols.numeric else str(v)]
                                             for k, v in cols.missing.items()
                                             if k in cols.names},
                             variable_measure={k: v for k, v in cols.measure.items()
                                               if k in cols.names},
                             file_label="SIPAS export")
    else:
        # Stata has no user-missing values: the code becomes .a, labelled as it was.
        for name, code in declared.items():
            column = frame[name].astype(object)
            frame[name] = column.where(column != float(code), STATA_MISSING)
            values[name] = {(STATA_MISSING if k == code else k): v
                            for k, v in values.get(name, {}).items()}
        pyreadstat.write_dta(frame, str(path), column_labels=labels,
                             variable_value_labels=values, file_label="SIPAS export",
                             missing_user_values={k: [STATA_MISSING] for k in declared})
    return len(table)
