"""An instrument as an XLSForm workbook (survey, choices, settings), for ODK and Kobo.

Provinces that collect with ODK Collect or KoboToolbox can take SIPAS's questionnaire as it
is: every question with its Vietnamese and English wording (``label::Tiếng Việt (vi)``),
its choices, the "no answer" code where the form allows it (a ``<list>_na`` copy of the
choice list with the missing code added), the skip rules and ranges. Skip rules and
constraints are written in XPath as ODK evaluates them (xpath.py: most SIPAS rules
read the same in both notations and are carried as they are). pyxform, the reference
converter, turns the workbook into an XForm in the tests.

What XLSForm has no column for travels in ``sipas::`` columns and settings, which pyxform
ignores, so that reading the workbook back (reader.py) gives the very same
instrument:

* settings: ``sipas::kind``, ``sipas::languages``, ``sipas::title::<language>``,
  ``sipas::description::<language>``, ``sipas::scale`` (the choice list holding the
  satisfaction scale), ``sipas::satisfied_codes``, ``sipas::dissatisfied_codes``,
  ``sipas::missing_code``, ``sipas::missing_label::<language>``, ``sipas::elements`` (the
  choice list holding the elements' codes and names) and ``sipas::choice_lists`` (the
  named lists, as opposed to an item's own choices);
* survey rows: ``sipas::section`` (with the section's ``sipas::section_title``,
  ``sipas::section_description`` and ``sipas::section_relevant`` on its first row),
  ``sipas::relevant`` (the item's own rule; the ``relevant`` column joins the section's to
  it, as the questions are not grouped), ``sipas::constraint``, ``sipas::min``,
  ``sipas::max``, ``sipas::element`` and ``sipas::missing_code`` (the "no answer" code of an
  item that allows it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from survey.instruments.expr_nodes import literal_text
from survey.instruments.schema import NUMBER_TYPES, Choice, Code, Instrument, Item, Section, Text
from survey.instruments.xlsform.xpath import to_xpath
from survey.instruments.yaml_dump import own_relevant

LANGUAGE_NAMES = {"vi": "Tiếng Việt (vi)", "en": "English (en)"}
TYPES = {"integer": "integer", "decimal": "decimal", "text": "text", "note": "note",
         "date": "date"}
SIPAS = "sipas::"
Row = dict[str, str]


def language_name(language: str) -> str:
    """The XLSForm spelling of a language (``Tiếng Việt (vi)``); the code when unknown."""
    return LANGUAGE_NAMES.get(language, language)


def number_constraint(low: int | float | None, high: int | float | None,
                      constraint: str | None, missing: Code | None) -> str | None:
    """One SIPAS expression for an item's range, constraint and "no answer" code.

    SIPAS checks ``min``/``max`` and the constraint apart and lets the missing code
    through; XLSForm has one constraint column, so the three are joined.
    """
    parts = []
    if low is not None:
        parts.append(f". >= {literal_text(low)}")
    if high is not None:
        parts.append(f". <= {literal_text(high)}")
    if constraint:
        parts.append(f"({constraint})")
    if not parts:
        return None
    joined = " and ".join(parts)
    if missing is None:
        return joined
    return f"({joined}) or . = {literal_text(missing)}"


def item_constraint(item: Item) -> str | None:
    """The SIPAS text behind an item's XLSForm ``constraint`` column."""
    missing = item.missing_code if item.na_allowed and item.type in NUMBER_TYPES else None
    return number_constraint(item.min, item.max, item.constraint_text, missing)


class _Lists:
    """The choices sheet being written: a name for every list, none used for two lists."""

    def __init__(self, form: Instrument) -> None:
        self.lists: dict[str, tuple[Choice, ...]] = dict(form.choice_lists)
        self.form = form
        self.variants: dict[tuple[str, str], str] = {}
        self.scale = self.add("scale", form.scale) if form.scale else ""

    def add(self, wanted: str, choices: tuple[Choice, ...]) -> str:
        name, number = wanted, 2
        while name in self.lists:
            name, number = f"{wanted}_{number}", number + 1
        self.lists[name] = choices
        return name

    def for_item(self, item: Item) -> str:
        """The list of a select item; a '<list>_na' copy with the item's missing code for
        items that allow "no answer" (the other items must not offer it)."""
        if item.type == "scale":
            base = self.scale
        elif item.choice_list:
            base = item.choice_list
        else:
            base = self.add(f"{item.code}_choices", item.choices)
        if not (item.na_allowed and item.missing_code is not None):
            return base
        key = (base, str(item.missing_code))
        if key not in self.variants:
            label = dict(self.form.missing_label or {"vi": "Không trả lời", "en": "No answer"})
            missing = Choice(item.missing_code, label)
            self.variants[key] = self.add(f"{base}_na", (*self.lists[base], missing))
        return self.variants[key]


def _labels(row: Row, column: str, text: Text | None, languages: tuple[str, ...]) -> None:
    for lang in languages:
        if text and text.get(lang):
            row[f"{column}::{language_name(lang)}"] = text[lang]


def _put(row: Row, column: str, value: Any) -> None:
    if value is not None and value != "":
        row[column] = value if isinstance(value, str) else literal_text(value)


def _sipas_columns(row: Row, item: Item, section: Section, first: bool,
                   languages: tuple[str, ...]) -> None:
    """What SIPAS knows of an item beyond XLSForm's columns (see the module docstring)."""
    row[f"{SIPAS}section"] = section.code
    if first:
        _labels(row, f"{SIPAS}section_title", section.title, languages)
        _labels(row, f"{SIPAS}section_description", section.description, languages)
        _put(row, f"{SIPAS}section_relevant", section.relevant_text)
    _put(row, f"{SIPAS}relevant", own_relevant(item, section))
    _put(row, f"{SIPAS}constraint", item.constraint_text)
    _put(row, f"{SIPAS}min", item.min)
    _put(row, f"{SIPAS}max", item.max)
    _put(row, f"{SIPAS}element", item.element)
    if item.na_allowed:
        _put(row, f"{SIPAS}missing_code", item.missing_code)


def _survey_row(item: Item, section: Section, first: bool, lists: _Lists,
                languages: tuple[str, ...]) -> Row:
    if item.type in ("scale", "select_one", "select_multiple"):
        kind = "select_multiple" if item.type == "select_multiple" else "select_one"
        kind = f"{kind} {lists.for_item(item)}"
    else:
        kind = TYPES.get(item.type, "text")
    row: Row = {"type": kind, "name": item.code}
    _labels(row, "label", item.label, languages)
    _labels(row, "hint", item.hint, languages)
    if item.required and item.is_question:
        row["required"] = "yes"
    if item.relevant_text:
        row["relevant"] = to_xpath(item.relevant_text)
    constraint = item_constraint(item)
    if constraint:
        row["constraint"] = to_xpath(constraint)
        _labels(row, "constraint_message", item.constraint_message, languages)
    _sipas_columns(row, item, section, first, languages)
    return row


def _settings(form: Instrument, lists: _Lists, elements: str) -> Row:
    languages = form.languages
    settings: Row = {"form_title": form.title.get("vi") or form.code, "form_id": form.code,
                     "version": form.version,
                     "default_language": language_name(languages[0]),
                     f"{SIPAS}kind": form.kind, f"{SIPAS}languages": " ".join(languages)}
    _labels(settings, f"{SIPAS}title", form.title, languages)
    _labels(settings, f"{SIPAS}description", form.description, languages)
    if lists.scale:
        settings[f"{SIPAS}scale"] = lists.scale
        settings[f"{SIPAS}satisfied_codes"] = " ".join(map(str, form.satisfied_codes))
        settings[f"{SIPAS}dissatisfied_codes"] = " ".join(map(str, form.dissatisfied_codes))
    missing = form.missing_code
    settings[f"{SIPAS}missing_code"] = "" if missing is None else str(missing)
    _labels(settings, f"{SIPAS}missing_label", form.missing_label, languages)
    if elements:
        settings[f"{SIPAS}elements"] = elements
    if form.choice_lists:
        settings[f"{SIPAS}choice_lists"] = " ".join(form.choice_lists)
    return settings


def xlsform_rows(form: Instrument) -> tuple[list[Row], list[Row], Row]:
    """The survey rows, the choice rows and the settings of ``form``."""
    lists = _Lists(form)
    survey = [_survey_row(item, section, index == 0, lists, form.languages)
              for section in form.sections for index, item in enumerate(section.items)]
    elements = lists.add("sipas_elements", tuple(Choice(e.code, e.label)
                                                 for e in form.elements)) \
        if form.elements else ""
    choices = []
    for name, options in lists.lists.items():
        for choice in options:
            row = {"list_name": name, "name": str(choice.code)}
            _labels(row, "label", choice.label, form.languages)
            choices.append(row)
    return survey, choices, _settings(form, lists, elements)


def _columns(rows: list[Row], languages: tuple[str, ...]) -> list[str]:
    """Every column used, XLSForm's own first and the ``sipas::`` ones after them.

    A text column in one language comes in every language (pyxform warns of a language
    missing a column, even when the form has no such text in it).
    """
    columns: list[str] = []
    for row in rows:
        for column in row:
            base = column.rsplit("::", 1)[0] if "::" in column else None
            wanted = [f"{base}::{language_name(lang)}" for lang in languages] \
                if base and not column.startswith(SIPAS) else [column]
            columns += [c for c in wanted if c not in columns]
    return sorted(columns, key=lambda c: (c.startswith(SIPAS), columns.index(c)))


def write_xlsform(form: Instrument, path: Path) -> None:
    """Write ``form`` as an XLSForm workbook at ``path``."""
    from openpyxl import Workbook

    survey, choices, settings = xlsform_rows(form)
    wb = Workbook()
    for title, rows in (("survey", survey), ("choices", choices), ("settings", [settings])):
        ws = wb.active if title == "survey" else wb.create_sheet(title)
        ws.title = title
        columns = _columns(rows, form.languages)
        ws.append(columns)
        for row in rows:
            ws.append([row.get(c, "") for c in columns])
    wb.save(path)
