"""XLSX exports a million rows long in a minute: openpyxl's workbook, the data rows streamed.

openpyxl writes about 200,000 cells a second (a desk-evaluation quarter at national size,
1,000,000 rows × 27 columns, took 144 s, most of it building a cell object per value). Its
write-only sheets are plain XML: one ``<row>`` per row, numbers as ``t="n"`` and text as
inline strings. So openpyxl still makes the whole package (workbook, styles, the bold
header, the variables sheet, content types), and only the data sheet's rows are written
here, as the very bytes openpyxl would write for them (a test compares the two sheet by
sheet). Each distinct value is turned into XML once: codes, statuses and desk codes repeat.

Text is always a text cell, never a formula or an error, whatever it starts with. A value
in a numeric column that is not a finite number is written as text (openpyxl would have
failed on it). Characters XML cannot hold (controls other than tab, newline and carriage
return; input refuses them) are left out of the cell, where openpyxl would have failed.
"""

from __future__ import annotations

import math
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from xml.etree import ElementTree

from survey.messages import N_, UserError

XLSX_MAX_ROWS = 1_048_575  # Excel's 1,048,576 rows, one of them the header
_ILLEGAL = re.compile(r"[\000-\010\013\014\016-\037]")  # openpyxl's ILLEGAL_CHARACTERS_RE
_MEMO_LIMIT = 100_000  # distinct values kept turned into XML (dates and ids do not repeat)
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PACKAGE_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def _escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _text_cell(value: str) -> str:
    """The end of a text cell after its reference, as openpyxl (ElementTree) writes it."""
    value = _ILLEGAL.sub("", value)
    if value == "":
        return '" t="inlineStr" />'
    stripped = value.strip()
    space = ' xml:space="preserve"' if stripped and value != stripped else ""
    return f'" t="inlineStr"><is><t{space}>{_escape(value)}</t></is></c>'


def _number_cell(value: str) -> str:
    """A number as openpyxl writes a float (``%.16g``); anything else as text."""
    try:
        number = float(value)
    except ValueError:
        return _text_cell(value)
    if not math.isfinite(number):
        return _text_cell(value)
    return f'" t="n"><v>{number:.16g}</v></c>'


def _column_letters(count: int) -> list[str]:
    from openpyxl.utils import get_column_letter

    return [get_column_letter(i) for i in range(1, count + 1)]


def write_rows_xml(rows: Iterable[Sequence[str]], numeric: Sequence[bool],
                   write: Callable[[str], object], first: int = 2,
                   limit: int = XLSX_MAX_ROWS) -> int:
    """Write the ``<row>`` elements of ``rows`` (text cells) with ``write``; return the count.

    An empty cell of a numeric column is left out, as openpyxl leaves out ``None``; an
    empty text cell is an empty inline string, as openpyxl writes ``""``.
    """
    letters = _column_letters(len(numeric))
    texts: dict[str, str] = {}
    numbers: dict[str, str] = {}
    count = 0
    for at, row in enumerate(rows, start=first):
        if count >= limit:
            raise UserError(N_("More than %(n)s rows: Excel cannot open a sheet this long. "
                             "Download CSV, SAV or DTA, or narrow the export (round, status, "
                             "period)."), n=limit)
        n = str(at)
        parts = [f'<row r="{n}">']
        for letter, is_number, value in zip(letters, numeric, row, strict=True):
            if is_number:
                if value == "":
                    continue
                end = numbers.get(value)
                if end is None:
                    if len(numbers) > _MEMO_LIMIT:
                        numbers.clear()
                    end = numbers[value] = _number_cell(value)
            else:
                end = texts.get(value)
                if end is None:
                    if len(texts) > _MEMO_LIMIT:
                        texts.clear()
                    end = texts[value] = _text_cell(value)
            parts.append(f'<c r="{letter}{n}{end}')
        parts.append("</row>")
        write("".join(parts))
        count += 1
    return count


def _data_part(shell: zipfile.ZipFile, sheet: str) -> str:
    """The zip member holding the sheet called ``sheet`` (read from the workbook's parts)."""
    book = ElementTree.fromstring(shell.read("xl/workbook.xml"))
    rel_id = next(s.get(f"{_REL}id") for s in book.iter(f"{_MAIN}sheet")
                  if s.get("name") == sheet)
    rels = ElementTree.fromstring(shell.read("xl/_rels/workbook.xml.rels"))
    target = next(r.get("Target") for r in rels.iter(f"{_PACKAGE_REL}Relationship")
                  if r.get("Id") == rel_id)
    assert target is not None
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


def write_workbook(header: Sequence[str], numeric: Sequence[bool],
                   rows: Iterable[Sequence[str]], variables: Sequence[Sequence[str]],
                   path: Path, limit: int = XLSX_MAX_ROWS) -> int:
    """A workbook with a ``data`` sheet (bold header, then ``rows``) and a ``variables``
    sheet; return the number of data rows. Above ``limit`` rows a :class:`UserError`: a
    sheet Excel cannot open is refused, never cut."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    with tempfile.TemporaryDirectory(prefix="sipas-xlsx-", dir=path.parent) as folder:
        work = Path(folder)
        wb = Workbook(write_only=True)
        data = wb.create_sheet("data")
        bold = Font(bold=True)
        head = []
        for name in header:
            cell = WriteOnlyCell(data, value=name)
            cell.data_type, cell.font = "s", bold
            head.append(cell)
        data.append(head)
        meta = wb.create_sheet("variables")
        for line in variables:
            cells = []
            for value in line:
                cell = WriteOnlyCell(meta, value=value)
                cell.data_type = "s"
                cells.append(cell)
            meta.append(cells)
        wb.save(work / "shell.xlsx")
        with zipfile.ZipFile(work / "shell.xlsx") as shell:
            part = _data_part(shell, "data")
            sheet_xml = shell.read(part).decode("utf-8")
            cut = sheet_xml.index("</sheetData>")
            # the rows go to a file first, so the zip knows the sheet's size (ZIP64 only
            # when a sheet passes 2 GiB, as openpyxl would do)
            with (work / "sheet.xml").open("w", encoding="utf-8", newline="") as out:
                out.write(sheet_xml[:cut])
                try:
                    count = write_rows_xml(rows, numeric, out.write, limit=limit)
                finally:  # stopped early (too long): the reader's cursors and thread end now
                    close = getattr(rows, "close", None)
                    if close is not None:
                        close()
                out.write(sheet_xml[cut:])
            with zipfile.ZipFile(work / "out.xlsx", "w", zipfile.ZIP_DEFLATED) as book:
                for info in shell.infolist():
                    if info.filename == part:
                        book.write(work / "sheet.xml", arcname=part)
                    else:
                        book.writestr(info, shell.read(info.filename))
        shutil.move(work / "out.xlsx", path)
    return count
