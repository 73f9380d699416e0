"""Turning the parsed YAML of one form file into an :class:`Instrument`, or its problems.

The builder never stops at the first problem: it notes each one (with file, line and
item) and carries on with a best guess, so that :class:`FormError` lists them all.
"""

from __future__ import annotations

import hashlib
from typing import Any

from survey.instruments.errors import Problem
from survey.instruments.expr_checks import check_expression, parse_expression
from survey.instruments.fields import Notes
from survey.instruments.items import ItemBuilder
from survey.instruments.schema import (
    CODE_PATTERN,
    KINDS,
    Choice,
    Element,
    Instrument,
    Item,
    Section,
)
from survey.instruments.yaml_source import LineDict

TOP_KEYS = ("code", "version", "kind", "title", "description", "languages", "scale",
            "satisfied_codes", "dissatisfied_codes", "missing_code", "missing_label",
            "elements", "choice_lists", "sections")
SECTION_KEYS = ("code", "title", "description", "relevant", "defaults", "items")
DEFAULT_MISSING_CODE = 9


def build_instrument(data: Any, source_text: str, file: str) -> tuple[Instrument | None,
                                                                      list[Problem]]:
    """Build the instrument described by ``data``; return it (None if broken) and problems."""
    notes = Notes(file)
    top = notes.mapping(data, "the form file", None)
    if not top:
        return None, notes.problems
    for key, line in top.duplicates:
        notes.add(f"key {key!r} appears twice", line=line)
    notes.unknown_keys(top, TOP_KEYS, "the instrument")
    notes.languages = _languages(top, notes)
    code = top.get("code")
    if not isinstance(code, str) or not CODE_PATTERN.fullmatch(code):
        notes.add(f"instrument code {code!r} must be lower-case letters, digits and '_', "
                  "starting with a letter", top)
    version = _version(top.get("version"), notes, top)
    kind = top.get("kind")
    if kind not in KINDS:
        notes.add(f"kind {kind!r} must be one of {', '.join(KINDS)}", top)
    title = notes.text(top.get("title"), "title", top)
    description = notes.text(top.get("description"), "description", top, required=False)
    missing_label = notes.text(top.get("missing_label"), "missing_label", top, required=False)
    missing_code = top.get("missing_code", DEFAULT_MISSING_CODE)
    if missing_code is not None:
        missing_code = notes.code(missing_code, "missing_code", top)
    scale, satisfied, dissatisfied = _scale(top, notes, missing_code)
    choice_lists = _choice_lists(top.get("choice_lists"), notes, top)
    elements = _elements(top.get("elements"), notes, top)
    sections = _sections(top, notes, scale, choice_lists, elements, missing_code)
    items = [item for section in sections for item in section.items]
    element_items = {code: tuple(i.code for i in items if i.element == code) for code in elements}
    for element_code, members in element_items.items():
        if not members and not notes.problems:  # else an item's own problem may explain it
            notes.add(f"element {element_code!r} has no items", top)
    if notes.problems:
        return None, notes.problems
    instrument = Instrument(
        code=code, version=version, kind=kind, title=title, description=description,
        languages=notes.languages, sections=tuple(sections),
        elements=tuple(Element(c, label, element_items[c]) for c, label in elements.items()),
        scale=scale, satisfied_codes=satisfied, dissatisfied_codes=dissatisfied,
        missing_code=missing_code, missing_label=missing_label, choice_lists=choice_lists,
        source_text=source_text,
        content_hash=hashlib.sha256(source_text.encode("utf-8")).hexdigest(), path=file)
    return instrument, []


def _languages(top: LineDict, notes: Notes) -> tuple[str, ...]:
    languages = top.get("languages", ["vi", "en"])
    if not isinstance(languages, list) or not all(isinstance(x, str) for x in languages):
        notes.add("languages must be a list of language codes such as [vi, en]", top)
        return ("vi",)
    if "vi" not in languages:
        notes.add("languages must include 'vi' (Vietnamese is required)", top)
    return tuple(dict.fromkeys(["vi", *languages]))


def _version(value: Any, notes: Notes, top: LineDict) -> str:
    if isinstance(value, float):
        notes.add(f"version {value!r} must be quoted text (\"{value}\"): unquoted, 2023.10 "
                  "would read as the number 2023.1", top)
        return str(value)
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        notes.add(f"version {value!r} must be text such as \"2023.1\"", top)
        return ""
    return str(value).strip()


def _scale(top: LineDict, notes: Notes, missing_code: Any) -> tuple[
        tuple[Choice, ...], tuple[int, ...], tuple[int, ...]]:
    if "scale" not in top:
        return (), (), ()
    scale = notes.choices(top["scale"], "scale", top)
    codes = {choice.code for choice in scale}
    if any(not isinstance(code, int) for code in codes):
        notes.add("scale codes must be integers (such as 1..5)", top)
    if missing_code in codes:
        notes.add(f"missing_code {missing_code!r} is also a scale code", top)
    picked = []
    for key in ("satisfied_codes", "dissatisfied_codes"):
        value = top.get(key)
        if not isinstance(value, list) or not value:
            notes.add(f"{key} must be a non-empty list of scale codes", top)
            picked.append(())
            continue
        known = [v for v in value if isinstance(v, int) and not isinstance(v, bool)
                 and v in codes]
        unknown = [v for v in value if v not in known]
        if unknown:
            notes.add(f"{key} {unknown} are not scale codes {sorted(codes, key=str)}", top)
        picked.append(tuple(known))
    if set(picked[0]) & set(picked[1]):
        notes.add("satisfied_codes and dissatisfied_codes overlap", top)
    return scale, picked[0], picked[1]


def _choice_lists(value: Any, notes: Notes, top: LineDict) -> dict[str, tuple[Choice, ...]]:
    if value is None:
        return {}
    lists = notes.mapping(value, "choice_lists", top)
    return {name: notes.choices(choices, f"choice list {name!r}", lists)
            for name, choices in lists.items()}


def _elements(value: Any, notes: Notes, top: LineDict) -> dict[str, dict[str, str]]:
    if value is None:
        return {}
    if not isinstance(value, list):
        notes.add("elements must be a list of {code, label}", top)
        return {}
    elements: dict[str, dict[str, str]] = {}
    for entry in value:
        data = notes.mapping(entry, "an element", top)
        notes.unknown_keys(data, ("code", "label"), "an element")
        code = data.get("code")
        if not isinstance(code, str) or not code.strip():
            notes.add(f"element code {code!r} must be text such as 'I'", data or top)
            continue
        if code in elements:
            notes.add(f"element {code!r} is defined twice", data)
            continue
        label = notes.text(data.get("label"), f"label of element {code!r}", data)
        elements[code] = label or {"vi": code}
    return elements


def _sections(top: LineDict, notes: Notes, scale: tuple[Choice, ...],
              choice_lists: dict[str, tuple[Choice, ...]], elements: dict[str, Any],
              missing_code: Any) -> list[Section]:
    raw_sections = top.get("sections")
    if not isinstance(raw_sections, list) or not raw_sections:
        notes.add("sections must be a non-empty list", top)
        return []
    section_maps = [notes.mapping(s, "a section", top) for s in raw_sections]
    all_codes = frozenset(
        item.get("code") for s in section_maps
        for item in (s.get("items") if isinstance(s.get("items"), list) else [])
        if isinstance(item, dict) and isinstance(item.get("code"), str))
    builder = ItemBuilder(notes, scale, choice_lists, frozenset(elements), missing_code,
                          all_codes)
    sections: list[Section] = []
    section_codes: set[str] = set()
    for data in section_maps:
        notes.unknown_keys(data, SECTION_KEYS, "a section")
        code = data.get("code")
        if not isinstance(code, str) or not CODE_PATTERN.fullmatch(code):
            notes.add(f"section code {code!r} must be lower-case letters, digits and '_'",
                      data)
            code = str(code)
        elif code in section_codes:
            notes.add(f"section code {code!r} is used twice", data)
        section_codes.add(code)
        title = notes.text(data.get("title"), f"title of section {code!r}", data)
        relevant_text = data.get("relevant")
        relevant = parse_expression(relevant_text, f"relevant of section {code!r}", notes,
                                    data, None)
        if relevant is not None:
            check_expression(relevant, f"relevant of section {code!r}", notes=notes,
                             where=data, item=None, earlier=builder.seen,
                             all_codes=all_codes, allow_current=False)
        defaults = notes.mapping(data.get("defaults", LineDict()), "defaults", data)
        raw_items = data.get("items")
        if not isinstance(raw_items, list) or not raw_items:
            notes.add(f"section {code!r} must have a non-empty list of items", data)
            raw_items = []
        items: list[Item] = []
        for raw in raw_items:
            item = builder.build(raw, data, code, defaults,
                                 relevant_text if relevant is not None else None)
            if item is not None:
                items.append(item)
        sections.append(Section(code, title or {"vi": code}, tuple(items),
                                notes.text(data.get("description"), "description", data,
                                           required=False),
                                relevant_text if isinstance(relevant_text, str) else None))
    return sections
