"""Uploaded tables as people have them: CSV (comma, semicolon or tab; UTF-8 with or without
BOM) or an Excel workbook (.xlsx, its first sheet), and the blank templates to fill in.

Every import parses CSV text (:mod:`survey.services.data.csv_text`), so a workbook is turned
into that text here, cell by cell: whole numbers without ".0" (a PSU 0012 typed as text stays
0012; one Excel made a number loses its zeros, as it does in Excel itself), dates as ISO.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime

from survey.messages import N_, UserError

XLSX_MAGIC = b"PK\x03\x04"
MAX_ROWS = 200_000

# name -> (header, example rows): what each upload expects, downloadable as CSV or XLSX.
TEMPLATES: dict[str, tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]] = {
    "frame": (("code", "name", "level", "parent", "households", "population", "urban_rural",
               "valid_from", "valid_to", "successor"),
              (("75", "Tỉnh Đồng Nai", "province", "", "", "", "", "", "", ""),
               ("7501", "Huyện Tân Phú", "district", "75", "", "", "", "", "", ""),
               ("750101", "Xã Phú Lâm", "commune", "7501", "", "", "rural", "", "", ""),
               ("75010101", "Ấp Bàu Sen", "hamlet", "750101", "320", "1250", "rural", "", "",
                ""))),
    "volumes": (("desk", "period", "dossiers"),
                (("MC-TANPHU", "2025-Q3", "1450"), ("MC-TANPHU", "2025-10", "512"))),
    "listing": (("psu", "listed"), (("0001", "240"), ("0002", "185"))),
    "dossiers": (("code", "procedure_code", "procedure_name", "field", "agency", "desk",
                  "received_at", "due_at", "returned_at", "officer"),
                 (("000.00.12.H12-250925-0001", "1.001612", "Đăng ký khai sinh", "Hộ tịch",
                   "UBND xã Phú Lâm", "MC-TANPHU", "25/09/2025 08:15", "25/09/2025 16:00",
                   "25/09/2025 15:20", "CB012"),)),
    "margins": (("variable", "value", "total"),
                (("a_sex", "1", "512000"), ("a_sex", "2", "538000"),
                 ("urban_rural", "urban", "310000"), ("urban_rural", "rural", "740000"))),
}


def upload_text(raw: bytes, filename: str = "") -> str:
    """The upload as CSV text, whether it came as CSV or as an Excel workbook."""
    if raw.startswith(XLSX_MAGIC) or filename.lower().endswith(".xlsx"):
        return _workbook_text(raw)
    if filename.lower().endswith(".xls"):
        raise UserError(N_("Old Excel files (.xls) cannot be read: save the sheet as .xlsx or "
                           "as CSV UTF-8."))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UserError(N_("The file is not UTF-8 text: save it as \"CSV UTF-8\" or as an "
                           "Excel workbook (.xlsx).")) from None


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() \
            else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _workbook_text(raw: bytes) -> str:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise UserError(N_("The file is not a readable Excel workbook (.xlsx).")) from None
    try:
        sheet = workbook.worksheets[0]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        width = None  # the header's width: a row is cut or padded to it, as CSV has it
        for count, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            if count > MAX_ROWS:
                raise UserError(N_("The sheet has more than %(n)d rows."), n=MAX_ROWS)
            cells = [_cell(v) for v in row]
            filled = max((i + 1 for i, c in enumerate(cells) if c), default=0)
            if width is None:
                width = filled
            cells = cells[:max(width, filled)]
            writer.writerow(cells + [""] * (width - len(cells)))
        return out.getvalue()
    finally:
        workbook.close()


def template_csv(name: str) -> bytes:
    header, rows = TEMPLATES[name]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx(name: str) -> bytes:
    """The template as a workbook whose cells are all text (codes keep their leading zeros)."""
    from openpyxl import Workbook

    header, rows = TEMPLATES[name]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = name
    for line in (header, *rows):
        sheet.append(list(line))
    for row in sheet.iter_rows():
        for cell in row:
            cell.number_format = "@"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
