"""An XLSForm workbook (ODK, KoboToolbox, or SIPAS's own export) read as a SIPAS form.

The result is the YAML text that ``forms/`` holds, in the canonical layout of
yaml_dump.py, already loaded and checked by the loader: what the import writes, SIPAS can
publish. A workbook that SIPAS's own export wrote (export.py) comes back as the very same
instrument, its ``sipas::`` columns carrying what XLSForm has no column for; they are
trusted only while the XLSForm columns still say what the export wrote from them, so an
edit made in Excel is read rather than silently undone.

Read: ``label``/``hint``/``constraint_message`` in any ``::Language (xx)`` spelling (plain
``label`` is the settings' ``default_language``, else Vietnamese), ``required``,
``relevant``, ``constraint`` (XPath translated by xpath.py; ``. >= a and . <= b``
on a number becomes its range), integer, decimal, text, date, note, select_one and
select_multiple with their choice lists (a ``<list>_na`` list that adds one choice is
"no answer" allowed), and ``begin group``/``end group`` as sections (a nested group is a
section of its own, under both groups' conditions). Metadata rows (start, end, deviceid…)
are left out with a note.

Refused, each with a line naming sheet, row and column: repeats, other question types
(calculate, geopoint, image, …), ``calculation``/``choice_filter``/``read_only``, a
conditional ``required``, ``or_other``, XPath that SIPAS cannot say, names that cannot be
export columns, duplicate names, unknown choice lists; and a file that is not an xlsx or
has no survey sheet or no type/name column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from survey.instruments.errors import FormError, Problem
from survey.instruments.loader import load_instrument_text
from survey.instruments.schema import CODE_PATTERN, Instrument
from survey.instruments.xlsform.items import (
    SELECT_TYPES,
    SIMPLE_TYPES,
    ChoiceLists,
    Context,
    check_name,
    choice_code,
    expression,
    read_item,
)
from survey.instruments.xlsform.sheets import (
    Reading,
    Row,
    Sheet,
    XLSFormError,
    language_code,
    read_workbook,
)
from survey.instruments.yaml_dump import instrument_yaml

__all__ = ["ImportedForm", "XLSFormError", "read_xlsform"]

GROUP_BEGIN, GROUP_END = ("begin group", "begin_group"), ("end group", "end_group")
REPEAT_BEGIN, REPEAT_END = ("begin repeat", "begin_repeat"), ("end repeat", "end_repeat")
METADATA = frozenset({"start", "end", "today", "deviceid", "subscriberid", "simserial",
                      "phonenumber", "username", "email", "audit", "start-geopoint",
                      "imei", "uri:deviceid", "uri:email", "uri:username"})


@dataclass(frozen=True)
class ImportedForm:
    """The form YAML to write, the instrument it loads as, and what was left out."""

    text: str
    instrument: Instrument
    notes: tuple[str, ...] = ()


@dataclass
class _Frame:
    """An open ``begin group`` (or repeat) of the survey sheet."""

    kind: str
    row: Row
    name: str
    title: dict[str, str] = field(default_factory=dict)
    description: dict[str, str] = field(default_factory=dict)
    relevant: str | None = None


@dataclass
class _Section:
    key: tuple[str, Any]
    data: dict[str, Any]


def _slug(name: str) -> str:
    """A group name as a section code (lower case, '_' for anything else)."""
    slug = re.sub(r"[^a-z0-9_]", "_", name.lower())[:32]
    return slug if slug[:1].isalpha() else f"s_{slug}"[:32]


def _in_repeats(rows: list[Row]) -> frozenset[str]:
    """Names of the questions inside repeats, which no SIPAS expression may read."""
    names, depth = set(), 0
    for row in rows:
        kind = " ".join((row.get("type") or "").split()).lower()
        if kind in REPEAT_BEGIN or (depth and kind in GROUP_BEGIN):
            depth += 1
        elif depth and (kind in REPEAT_END or kind in GROUP_END):
            depth -= 1
        elif depth and row.get("name"):
            names.add(row.get("name") or "")
    return frozenset(names)


class _FormBuilder:
    """Walks the sheets once, building the form mapping and noting each problem."""

    def __init__(self, path: Path, sheets: dict[str, Sheet], settings: Row,
                 reading: Reading) -> None:
        self.path, self.settings, self.reading = path, settings, reading
        self.survey = sheets["survey"]
        lists = ChoiceLists(sheets.get("choices"), reading)
        self.context = Context(reading, lists, self.survey,
                               tuple((settings.get("sipas::choice_lists") or "").split()),
                               settings.get("sipas::scale"), _in_repeats(self.survey.rows))
        self.sections: list[_Section] = []
        self.rows: dict[str, Row] = {}  # item code -> its row
        self.section_rows: dict[str, tuple[Row, str]] = {}  # code -> row, its prefix
        self.title: dict[str, str] = {}

    def build(self) -> dict[str, Any]:
        data = self._head()
        self._walk()
        data["sections"] = [section.data for section in self.sections]
        if not self.sections and not self.reading.problems:
            self.reading.problem("survey sheet", "no question that SIPAS can carry")
        self._scale(data)
        self._lists(data)
        self._missing(data)
        languages = self.settings.get("sipas::languages")
        data["languages"] = languages.split() if languages else list(self.reading.languages)
        return data

    def _setting(self, base: str) -> str:
        return self.settings.where(self.settings.header(base))

    def _head(self) -> dict[str, Any]:
        settings, reading = self.settings, self.reading
        code = settings.get("form_id")
        if code is None:
            code = _slug(self.path.stem)
            reading.note(f"the settings sheet has no form_id: the instrument code is {code!r}, "
                         "from the file name")
        elif not CODE_PATTERN.fullmatch(code):
            reading.problem(self._setting("form_id"), f"form_id {code!r} must be lower-case "
                            "letters, digits and '_', starting with a letter (SIPAS's "
                            "instrument code)")
        version = settings.get("version")
        if version is None:
            version = "1"
            reading.note("the settings sheet has no version: the form is version '1'")
        kind = settings.get("sipas::kind")
        if kind is None:
            kind = "household"
            reading.note("the settings sheet has no sipas::kind: the form is a household "
                         "questionnaire (household, desk or policy)")
        self.title = reading.text(settings, "sipas::title") or {
            "vi": settings.get("form_title") or code}
        data: dict[str, Any] = {"code": code, "version": version, "kind": kind,
                                "title": self.title}
        description = reading.text(settings, "sipas::description")
        if description:
            data["description"] = description
        return data

    def _walk(self) -> None:
        stack: list[_Frame] = []
        seen: dict[str, int] = {}
        run = 0
        for row in self.survey.rows:
            cell = row.get("type")
            if cell is None:
                if row.get("name"):
                    self.reading.problem(row.where(row.header("type")), "the row has no type")
                continue
            words = cell.split()
            kind = " ".join(words).lower()
            if any(frame.kind == "repeat" for frame in stack) and not (
                    kind in REPEAT_END and stack[-1].kind == "repeat"):
                self._inside_repeat(kind, row, stack)
                continue
            if kind in (*GROUP_BEGIN, *REPEAT_BEGIN, *GROUP_END, *REPEAT_END):
                self._group_row(kind, row, stack)
                run += 1
                continue
            head = words[0].lower()
            if head in METADATA:
                self.reading.note(f"{row.where()}: {head} is left out (SIPAS records its own "
                                  "metadata)")
            elif head not in SIMPLE_TYPES and head not in SELECT_TYPES:
                self.reading.problem(row.where(row.header("type")),
                                     f"type {cell!r} cannot be carried into SIPAS (it has "
                                     "integer, decimal, text, date, note, select_one and "
                                     "select_multiple questions)")
            elif check_name(row, seen, self.reading):
                self._question(row, [head, *words[1:]], stack, run)
        for frame in stack:
            self.reading.problem(frame.row.where(frame.row.header("type")),
                                 f"begin {frame.kind} {frame.name!r} has no end {frame.kind}")

    def _inside_repeat(self, kind: str, row: Row, stack: list[_Frame]) -> None:
        """Rows inside a repeat are not read (the repeat is the problem); only nesting."""
        if kind in (*GROUP_BEGIN, *REPEAT_BEGIN):
            stack.append(_Frame("inner", row, row.get("name") or ""))
        elif kind in (*GROUP_END, *REPEAT_END):
            stack.pop()

    def _group_row(self, kind: str, row: Row, stack: list[_Frame]) -> None:
        where = row.where(row.header("type"))
        if kind in REPEAT_BEGIN:
            self.reading.problem(where, "begin repeat cannot be carried into SIPAS (it has no "
                                 "repeated questions)")
            stack.append(_Frame("repeat", row, row.get("name") or ""))
        elif kind in GROUP_BEGIN:
            name = row.get("name") or f"group_{row.number}"
            stack.append(_Frame("group", row, name, self.reading.text(row, "label"),
                                self.reading.text(row, "hint"),
                                expression(row, "relevant", self.context, None)))
        elif not stack:
            self.reading.problem(where, f"{kind} without a begin")
        else:
            stack.pop()

    def _question(self, row: Row, kind: list[str], stack: list[_Frame], run: int) -> None:
        section = self._section_for(row, stack, run)
        group = _joined([f.relevant for f in stack]) if row.get("sipas::section") else None
        item = read_item(row, kind, self.context, section.data.get("relevant"), group)
        section.data["items"].append(item)
        self.rows[item["code"]] = row

    def _section_for(self, row: Row, stack: list[_Frame], run: int) -> _Section:
        code = row.get("sipas::section")
        key = ("sipas", code) if code else ("run", run)
        if self.sections and self.sections[-1].key == key:
            return self.sections[-1]
        if code and any(s.key == key for s in self.sections):
            self.reading.problem(row.where(row.header("sipas::section")),
                                 f"section {code!r} comes back after other sections; keep "
                                 "its rows together")
        if code:
            data = self._sipas_section(row, code)
        elif stack:
            top = stack[-1]
            data = {"code": self._unique(_slug(top.name)), "title": {"vi": top.name} | top.title}
            if top.description:
                data["description"] = top.description
            relevant = _joined([frame.relevant for frame in stack])
            if relevant:
                data["relevant"] = relevant
        else:
            data = {"code": self._unique("main"), "title": dict(self.title)}
        data["items"] = []
        self.sections.append(_Section(key, data))
        self.section_rows[data["code"]] = (row, "sipas::section_") if code else \
            (stack[-1].row if stack else row, "")
        return self.sections[-1]

    def _sipas_section(self, row: Row, code: str) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self._unique(code),
                                "title": self.reading.text(row, "sipas::section_title")
                                or {"vi": code}}
        description = self.reading.text(row, "sipas::section_description")
        if description:
            data["description"] = description
        if row.get("sipas::section_relevant"):
            data["relevant"] = row.get("sipas::section_relevant")
        return data

    def _unique(self, code: str) -> str:
        taken = {s.data["code"] for s in self.sections}
        name, number = code, 2
        while name in taken:
            name, number = f"{code}_{number}", number + 1
        return name

    def _known(self, name: str, column: str) -> bool:
        """Is the list that a settings column names on the choices sheet?"""
        if self.context.lists.has(name):
            return True
        self.reading.problem(self._setting(column),
                             f"choice list {name!r} is not on the choices sheet")
        return False

    def _scale(self, data: dict[str, Any]) -> None:
        name = self.settings.get("sipas::scale")
        if not name or not self._known(name, "sipas::scale"):
            return
        data["scale"] = self.context.lists.choices(name)
        for key in ("satisfied_codes", "dissatisfied_codes"):
            codes = (self.settings.get(f"sipas::{key}") or "").split()
            data[key] = [choice_code(code) for code in codes]

    def _lists(self, data: dict[str, Any]) -> None:
        """The elements and the named choice lists, each kept as a list on the choices sheet."""
        lists = self.context.lists
        elements = self.settings.get("sipas::elements")
        if elements and self._known(elements, "sipas::elements"):
            data["elements"] = [{"code": e.name, "label": e.label} for e in lists.used(elements)]
        named = {name: lists.choices(name) for name in self.context.named_lists
                 if self._known(name, "sipas::choice_lists")}
        if named:
            data["choice_lists"] = named

    def _missing(self, data: dict[str, Any]) -> None:
        """The instrument's "no answer" code; items keep theirs only where it differs."""
        items = [item for s in data["sections"] for item in s["items"]]
        if any(c.base == "sipas::missing_code" for c in self.settings.columns.values()):
            text = self.settings.get("sipas::missing_code")
            data["missing_code"] = choice_code(text) if text else None
        else:
            codes = [item["missing_code"] for item in items if "missing_code" in item]
            data["missing_code"] = codes[0] if codes else 9
        label = self.reading.text(self.settings, "sipas::missing_label") or (
            self.context.lists.missing_labels[:1] or [None])[0]
        if label:
            data["missing_label"] = label
        for item in items:
            if item.get("missing_code") == data["missing_code"]:
                del item["missing_code"]

    def where(self, problem: Problem) -> str:
        """Where a problem that the loader found lies in the workbook."""
        row = self.rows.get(problem.item or "")
        if row is None:
            found = re.search(r"section '([^']+)'", problem.message)
            if found and found.group(1) in self.section_rows:
                row, prefix = self.section_rows[found.group(1)]
                column = "relevant" if problem.message.startswith("relevant") else "title"
                column = f"{prefix}{column}" if prefix else {"title": "label"}.get(column, column)
                return f"{row.where(row.header(column))}: {problem.message}"
            return f"{self.settings.where()}: {problem.message}"
        return f"{row.where(row.header(_column_of(problem.message)))}: {problem.message}"


_COLUMNS = (("relevant", "relevant"), ("constraint_message", "constraint_message"),
            ("constraint", "constraint"), ("min", "constraint"), ("max", "constraint"),
            ("label", "label"), ("hint", "hint"), ("element", "sipas::element"),
            ("unknown element", "sipas::element"), ("missing", "sipas::missing_code"),
            ("na_allowed", "sipas::missing_code"), ("a note", "type"))


def _column_of(message: str) -> str:
    return next((column for start, column in _COLUMNS if message.startswith(start)), "type")


def _joined(conditions: list[str | None]) -> str | None:
    present = [c for c in conditions if c]
    if len(present) < 2:
        return present[0] if present else None
    return " and ".join(f"({c})" for c in present)


def _checked(data: dict[str, Any], builder: _FormBuilder, file: str) -> ImportedForm:
    """Load the mapping as the loader does; its problems are told by cell, not YAML line."""
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    try:
        instrument = load_instrument_text(text, file)
    except FormError as exc:
        raise XLSFormError(file, [builder.where(p) for p in exc.problems]) from None
    canonical = instrument_yaml(instrument)
    return ImportedForm(canonical, load_instrument_text(canonical, file),
                        tuple(builder.reading.notes))


def read_xlsform(path: str | Path) -> ImportedForm:
    """Read the XLSForm workbook at ``path`` as a SIPAS form.

    :class:`XLSFormError` (a ``ValueError``) lists every problem, each naming its sheet,
    row and column.
    """
    path = Path(path)
    sheets, header_problems = read_workbook(path)
    survey = sheets.get("survey")
    if survey is None:
        found = ", ".join(sheets) or "none"
        raise XLSFormError(path.name, [f"no survey sheet (sheets found: {found})"])
    for base in ("type", "name"):
        if not survey.has(base):
            raise XLSFormError(path.name, [f"survey sheet, row 1: no {base!r} column"])
    settings_sheet = sheets.get("settings")
    settings = settings_sheet.rows[0] if settings_sheet and settings_sheet.rows else \
        Row("settings", 2, {}, settings_sheet.columns if settings_sheet else {})
    default = language_code(settings.get("default_language") or "") or "vi"
    if not any(c.base == "label" and language_code(c.language or default) == "vi"
               for c in survey.columns.values()):
        raise XLSFormError(path.name, ["survey sheet, row 1: no Vietnamese label column; "
                                       "SIPAS needs every question in Vietnamese (add a "
                                       "column label::Tiếng Việt (vi))"])
    reading = Reading(path.name, default)
    reading.problems.extend(header_problems)
    builder = _FormBuilder(path, sheets, settings, reading)
    data = builder.build()
    if reading.problems:
        raise XLSFormError(path.name, reading.problems)
    return _checked(data, builder, path.name)
