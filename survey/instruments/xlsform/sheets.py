"""Reading the sheets of an XLSForm workbook into rows of text, each knowing its cell.

Every cell becomes stripped text (numbers as Excel shows them, ``1`` not ``1.0``), and each
column its XLSForm meaning: ``label::Tiếng Việt (vi)``, ``label::vi`` and ``label::
Vietnamese`` are all the Vietnamese label, plain ``label`` is the form's default language,
and pyxform's other spellings (``list name``, ``jr:constraintMsg``, …) are accepted. The
import reports a problem as "survey sheet, row 12, column relevant", so a row keeps its
sheet, its number in Excel and the header of each of its cells.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

ALIASES = {"list name": "list_name", "constraint message": "constraint_message",
           "jr:constraintmsg": "constraint_message", "required message": "required_message",
           "jr:requiredmsg": "required_message", "choice filter": "choice_filter",
           "read only": "read_only", "repeat count": "repeat_count",
           "jr:count": "repeat_count", "form title": "form_title", "form id": "form_id",
           "id_string": "form_id", "default language": "default_language"}
LANGUAGE_WORDS = {"vietnamese": "vi", "tiếng việt": "vi", "tieng viet": "vi",
                  "english": "en", "tiếng anh": "en"}
_CODE_IN_NAME = re.compile(r"\(\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)?\s*\)\s*$")
_BARE_CODE = re.compile(r"([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)?")


class XLSFormError(ValueError):
    """The workbook cannot become a SIPAS instrument; one line per problem, each naming
    the sheet, row and column, so that the author fixes the workbook in one pass."""

    def __init__(self, file: str, problems: list[str]) -> None:
        self.problems = tuple(problems)
        if len(problems) == 1:
            message = f"{file}: {problems[0]}"
        else:
            message = "\n".join([f"{file}: {len(problems)} problems in the XLSForm",
                                 *(f"  {p}" for p in problems)])
        super().__init__(message)


def language_code(name: str) -> str | None:
    """``Tiếng Việt (vi)`` -> ``vi``; ``English`` -> ``en``; None when it cannot be told."""
    found = _CODE_IN_NAME.search(name)
    if found:
        return found.group(1).lower()
    bare = name.strip()
    if _BARE_CODE.fullmatch(bare):
        return bare.split("-")[0].split("_")[0].lower()
    return LANGUAGE_WORDS.get(bare.lower())


@dataclass(frozen=True)
class Column:
    """A header cell: its text as written, its meaning (``label``) and language (``vi``)."""

    header: str
    base: str
    language: str | None = None  # None: a column without a language part


def read_column(header: str) -> Column:
    parts = header.split("::")
    if parts[0].strip().lower() == "sipas" and len(parts) >= 2:
        base, rest = f"sipas::{parts[1].strip().lower()}", parts[2:]
    else:
        base, rest = parts[0].strip().lower(), parts[1:]
    base = ALIASES.get(base, base)
    if not rest:
        return Column(header, base)
    return Column(header, base, "::".join(rest).strip())


@dataclass
class Row:
    """One filled row of a sheet: cell text by header, with its sheet and Excel number."""

    sheet: str
    number: int
    cells: dict[str, str] = field(default_factory=dict)  # header -> text
    columns: dict[str, Column] = field(default_factory=dict)

    def where(self, column: str | None = None) -> str:
        place = f"{self.sheet} sheet, row {self.number}"
        return f"{place}, column {column}" if column else place

    def header(self, base: str) -> str:
        """The header of the column ``base`` as the sheet spells it (the one without a
        language if there is one), to name the cell in a message."""
        plain = next((h for h, c in self.columns.items() if c.base == base and not c.language),
                     None)
        return plain or next((h for h, c in self.columns.items() if c.base == base), base)

    def get(self, base: str) -> str | None:
        """The text of the column ``base`` that has no language part, None when empty."""
        for header, column in self.columns.items():
            if column.base == base and column.language is None and header in self.cells:
                return self.cells[header]
        return None

    def texts(self, base: str) -> dict[str, tuple[str, str]]:
        """``{language: (header, text)}`` of the columns ``base::<language>``."""
        found: dict[str, tuple[str, str]] = {}
        for header, column in self.columns.items():
            if column.base == base and column.language and header in self.cells:
                found[column.language] = (header, self.cells[header])
        return found


@dataclass
class Sheet:
    name: str
    columns: dict[str, Column]
    rows: list[Row]

    def has(self, base: str) -> bool:
        return any(c.base == base for c in self.columns.values())


def cell_text(value: Any) -> str | None:
    """A cell as the text Excel shows: ``1`` for 1.0, ISO dates, None when empty."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def _sheet(name: str, rows: list[tuple[Any, ...]], problems: list[str]) -> Sheet:
    header_cells = [cell_text(v) for v in rows[0]] if rows else []
    columns: dict[int, Column] = {}
    for index, header in enumerate(header_cells):
        if header is None:
            continue
        if any(c.header == header for c in columns.values()):
            problems.append(f"{name} sheet, row 1: column {header!r} appears twice")
            continue
        columns[index] = read_column(header)
    by_header = {c.header: c for c in columns.values()}
    sheet_rows = []
    for number, values in enumerate(rows[1:], start=2):
        cells = {columns[i].header: text for i, value in enumerate(values)
                 if i in columns and (text := cell_text(value)) is not None}
        if cells:
            sheet_rows.append(Row(name, number, cells, by_header))
    return Sheet(name, by_header, sheet_rows)


def read_workbook(path: Path) -> tuple[dict[str, Sheet], list[str]]:
    """The sheets by lower-case name, and the problems of their headers.

    :class:`XLSFormError` when the file is no Excel workbook at all.
    """
    from openpyxl import load_workbook

    if path.suffix.lower() == ".xls":
        raise XLSFormError(path.name, ["an Excel 97-2003 workbook (.xls): open it in Excel "
                                       "or LibreOffice and save it as .xlsx"])
    problems: list[str] = []
    try:
        with warnings.catch_warnings():  # openpyxl warns about features it drops (styles)
            warnings.simplefilter("ignore")
            with path.open("rb") as stream:  # by content: a workbook saved as .XLS(X)? fine
                workbook = load_workbook(stream, read_only=True, data_only=True)
                try:
                    sheets = {ws.title.strip().lower(): _sheet(
                        ws.title.strip().lower(), list(ws.iter_rows(values_only=True)),
                        problems) for ws in workbook.worksheets}
                finally:
                    workbook.close()
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on a damaged file
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if isinstance(exc, OSError):
            raise XLSFormError(path.name, [f"cannot read it: {exc.strerror or reason}"]) \
                from None
        raise XLSFormError(path.name, [f"not an Excel workbook (.xlsx): {reason}"]) from None
    return sheets, problems


class Reading:
    """What reading one workbook has found so far: problems, notes and the languages.

    Problems are gathered rather than raised, so that one import lists all that keeps the
    workbook from becoming a form; notes say what was left out on purpose.
    """

    def __init__(self, file: str, default_language: str = "vi") -> None:
        self.file = file
        self.default_language = default_language
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.languages: dict[str, None] = {"vi": None}  # in the order first met
        self._unknown: set[str] = set()

    def problem(self, where: str, message: str) -> None:
        if f"{where}: {message}" not in self.problems:
            self.problems.append(f"{where}: {message}")

    def note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)

    def text(self, row: Row, base: str) -> dict[str, str]:
        """``{language: wording}`` from ``base`` (the default language) and ``base::…``."""
        found: dict[str, str] = {}
        plain = row.get(base)
        if plain:
            found[self.default_language] = plain
        for name, (header, wording) in row.texts(base).items():
            code = self.default_language if name.lower() == "default" else language_code(name)
            if code is None:
                if header not in self._unknown:
                    self._unknown.add(header)
                    self.problem(f"{row.sheet} sheet, row 1, column {header}",
                                 f"cannot tell the language of {name!r}; write it with its "
                                 f"code, as {base}::{name} (xx)")
                continue
            found[code] = wording
        for code in found:
            self.languages.setdefault(code, None)
        return dict(sorted(found.items(), key=lambda pair: pair[0] != "vi"))

    def label(self, row: Row, base: str = "label", what: str = "label") -> dict[str, str]:
        """A text that SIPAS requires in Vietnamese; a problem names the cell when it is not."""
        found = self.text(row, base)
        if "vi" not in found:
            vi_column = next((h for name, (h, _) in row.texts(base).items()
                              if language_code(name) == "vi"), None)
            column = vi_column or next(
                (h for h, c in row.columns.items() if c.base == base and
                 (c.language is None or language_code(c.language) == "vi")), base)
            self.problem(row.where(column), f"no Vietnamese {what}: SIPAS needs the wording "
                         "in Vietnamese (a column such as label::Tiếng Việt (vi))")
        return found
