"""An instrument as an XLSForm workbook (survey, choices, settings), for ODK and Kobo.

Provinces that collect with ODK Collect or KoboToolbox can take SIPAS's questionnaire as it
is: every question with its Vietnamese and English wording (``label::Tiếng Việt (vi)``),
its choices, the "no answer" code where the form allows it, the skip rules and ranges.
SIPAS's expressions are written in XLSForm's own notation (``${item} = 1``,
``selected(${item}, 98)``), so they are carried over as they are. pyxform, the reference
converter, turns the workbook into an XForm in the tests.

Only the export is built so far; reading an XLSForm back into SIPAS is not.
"""

from __future__ import annotations

from pathlib import Path

from survey.instruments.schema import Choice, Instrument, Item

LANGUAGE_NAMES = {"vi": "Tiếng Việt (vi)", "en": "English (en)"}
TYPES = {"integer": "integer", "decimal": "decimal", "text": "text", "note": "note",
         "select_multiple": "select_multiple"}


def _choices_with_missing(form: Instrument, choices: tuple[Choice, ...]
                          ) -> tuple[Choice, ...]:
    assert form.missing_code is not None
    label = dict(form.missing_label or {"vi": "Không trả lời", "en": "No answer"})
    return (*choices, Choice(form.missing_code, label))


def _list_name(form: Instrument, item: Item, lists: dict[str, tuple[Choice, ...]]) -> str:
    """The choice list of a select item, adding a '<list>_na' variant with the missing code
    for items that allow "no answer" (the other items must not offer it)."""
    if item.type == "scale":
        base, choices = "scale", form.scale
    else:
        base = item.choice_list or f"{item.code}_choices"
        choices = item.choices
    if item.na_allowed and form.missing_code is not None:
        name = f"{base}_na"
        lists.setdefault(name, _choices_with_missing(form, choices))
        return name
    lists.setdefault(base, choices)
    return base


def _labels(row: dict, column: str, text: dict | None, languages: tuple[str, ...]) -> None:
    for lang in languages:
        if text and text.get(lang):
            row[f"{column}::{LANGUAGE_NAMES.get(lang, lang)}"] = text[lang]


def _constraint(item: Item) -> str:
    parts = []
    if item.min is not None:
        parts.append(f". >= {item.min}")
    if item.max is not None:
        parts.append(f". <= {item.max}")
    if item.constraint_text:
        parts.append(f"({item.constraint_text})")
    return " and ".join(parts)


def xlsform_rows(form: Instrument) -> tuple[list[dict], list[dict], dict]:
    """The survey rows, the choice rows and the settings of ``form``."""
    lists: dict[str, tuple[Choice, ...]] = {}
    survey = []
    for item in form.items:
        kind = item.type
        if kind in ("scale", "select_one"):
            kind = f"select_one {_list_name(form, item, lists)}"
        elif kind == "select_multiple":
            kind = f"select_multiple {_list_name(form, item, lists)}"
        else:
            kind = TYPES.get(kind, "text")
        row: dict = {"type": kind, "name": item.code}
        _labels(row, "label", dict(item.label), form.languages)
        _labels(row, "hint", dict(item.hint) if item.hint else None, form.languages)
        if item.required and item.type != "note":
            row["required"] = "yes"
        if item.relevant_text:
            row["relevant"] = item.relevant_text
        constraint = _constraint(item)
        if constraint:
            row["constraint"] = constraint
            _labels(row, "constraint_message",
                    dict(item.constraint_message) if item.constraint_message else None,
                    form.languages)
        survey.append(row)
    choices = []
    for name, options in lists.items():
        for choice in options:
            row = {"list_name": name, "name": str(choice.code)}
            _labels(row, "label", dict(choice.label), form.languages)
            choices.append(row)
    settings = {"form_title": form.title.get("vi") or form.code, "form_id": form.code,
                "version": form.version,
                "default_language": LANGUAGE_NAMES.get(form.languages[0], form.languages[0])}
    return survey, choices, settings


def write_xlsform(form: Instrument, path: Path) -> None:
    """Write ``form`` as an XLSForm workbook at ``path``."""
    from openpyxl import Workbook

    survey, choices, settings = xlsform_rows(form)
    wb = Workbook()
    for title, rows in (("survey", survey), ("choices", choices), ("settings", [settings])):
        ws = wb.active if title == "survey" else wb.create_sheet(title)
        ws.title = title
        columns: list[str] = []
        for row in rows:
            columns += [c for c in row if c not in columns]
        ws.append(columns)
        for row in rows:
            ws.append([row.get(c, "") for c in columns])
    wb.save(path)
