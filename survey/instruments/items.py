"""Building one item of a form (with its section's defaults), noting every problem."""

from __future__ import annotations

from typing import Any

from survey.instruments.expr_checks import check_expression, parse_expression
from survey.instruments.expr_nodes import Expr
from survey.instruments.expressions import parse
from survey.instruments.fields import Notes
from survey.instruments.schema import (
    CHOICE_TYPES,
    CODE_PATTERN,
    ITEM_TYPES,
    NUMBER_TYPES,
    RESERVED_CODES,
    Choice,
    Item,
)
from survey.instruments.values import code_text
from survey.instruments.yaml_source import LineDict

ITEM_KEYS = ("code", "type", "label", "hint", "choices", "required", "relevant", "constraint",
             "constraint_message", "min", "max", "element", "na_allowed", "missing_code")
DEFAULTABLE = ("type", "required", "choices", "min", "max", "element", "na_allowed",
               "missing_code", "hint")


class ItemBuilder:
    """Builds items in form order; ``seen`` holds the items built so far, by code."""

    def __init__(self, notes: Notes, scale: tuple[Choice, ...],
                 choice_lists: dict[str, tuple[Choice, ...]], elements: frozenset[str],
                 missing_code: Any, all_codes: frozenset[str]) -> None:
        self.notes = notes
        self.scale = scale
        self.choice_lists = choice_lists
        self.elements = elements
        self.missing_code = missing_code
        self.all_codes = all_codes
        self.seen: dict[str, Item] = {}
        self.lines: dict[str, int | None] = {}

    def build(self, raw: Any, section: LineDict, section_code: str, defaults: LineDict,
              section_relevant: str | None) -> Item | None:
        notes = self.notes
        raw_code = raw.get("code") if isinstance(raw, dict) else None
        label_code = raw_code if isinstance(raw_code, str) else None
        data = notes.mapping(raw, f"an item of section {section_code!r}", section, label_code)
        code = data.get("code")
        notes.unknown_keys(data, ITEM_KEYS, "an item", label_code)
        for key in defaults:
            if key not in DEFAULTABLE:
                notes.add(f"section {section_code!r}: key {key!r} cannot be a default "
                          f"(allowed: {', '.join(DEFAULTABLE)})", defaults)
        merged = LineDict({k: v for k, v in defaults.items() if k in DEFAULTABLE})
        merged.update(data)
        merged.line = data.line
        if not self._code_ok(code, data):
            return None
        problems_before = len(notes.problems)
        item_type = merged.get("type")
        if item_type not in ITEM_TYPES:
            notes.add(f"unknown type {item_type!r} (known: {', '.join(ITEM_TYPES)})", data, code)
            item_type = "unknown"  # skip the checks that depend on the type
        label = notes.text(merged.get("label"), "label", data, code)
        hint = notes.text(merged.get("hint"), "hint", data, code, required=False)
        choices, choice_list = self._choices(merged, item_type, data, code)
        required = notes.boolean(merged.get("required"), "required", data, code)
        na_allowed = notes.boolean(merged.get("na_allowed"), "na_allowed", data, code)
        low, high = self._range(merged, item_type, data, code)
        element = self._element(merged.get("element"), item_type, data, code)
        missing = self._missing(merged, item_type, na_allowed, choices, low, high, data, code)
        if item_type == "note" and (required or "constraint" in merged):
            notes.add("a note takes no answer, so it cannot be required or constrained", data,
                      code)
        relevant_text, relevant = self._relevant(merged.get("relevant"), section_relevant,
                                                 data, code)
        constraint = parse_expression(merged.get("constraint"), "constraint", notes, data, code)
        if constraint is not None:
            check_expression(constraint, "constraint", notes=notes, where=data, item=code,
                             earlier=self.seen, all_codes=self.all_codes, allow_current=True)
        message = notes.text(merged.get("constraint_message"), "constraint_message", data, code,
                             required=False)
        if message is not None and "constraint" not in merged:
            notes.add("constraint_message given without a constraint", data, code)
        item = Item(
            code=code, type=item_type, label=label or {"vi": code}, section=section_code,
            hint=hint, choices=choices, choice_list=choice_list, required=required,
            relevant=relevant, relevant_text=relevant_text, constraint=constraint,
            constraint_text=merged.get("constraint") if constraint is not None else None,
            constraint_message=message, min=low, max=high, element=element,
            na_allowed=na_allowed, missing_code=missing, line=data.line)
        self.seen[code] = item
        return item if len(notes.problems) == problems_before else None

    def _code_ok(self, code: Any, data: LineDict) -> bool:
        notes = self.notes
        if not isinstance(code, str) or not CODE_PATTERN.fullmatch(code):
            notes.add(f"item code {code!r} must be 1-32 lower-case letters, digits or '_', "
                      "starting with a letter (it becomes an export column)", data,
                      code if isinstance(code, str) else None)
            return False
        if code in RESERVED_CODES:
            notes.add(f"item code {code!r} is already an export column; choose another", data,
                      code)
            return False
        if code in self.lines:
            first = self.lines[code]
            notes.add(f"item code {code!r} is used twice (first at line {first})", data, code)
            return False
        self.lines[code] = data.line
        return True

    def _choices(self, merged: LineDict, item_type: Any, data: LineDict,
                 code: str) -> tuple[tuple[Choice, ...], str | None]:
        notes = self.notes
        value = merged.get("choices")
        if item_type == "unknown":
            return (), None
        if item_type == "scale":
            if value is not None:
                notes.add("a scale item uses the instrument's scale; remove 'choices'", data,
                          code)
            if not self.scale:
                notes.add("a scale item needs the instrument's 'scale'", data, code)
            return self.scale, None
        if item_type not in ("select_one", "select_multiple"):
            if value is not None:
                notes.add(f"'choices' is only for select items, not {item_type}", data, code)
            return (), None
        if isinstance(value, str):
            if value not in self.choice_lists:
                known = ", ".join(self.choice_lists) or "none defined"
                notes.add(f"unknown choice list {value!r} (known: {known})", data, code)
                return (), value
            return self.choice_lists[value], value
        if value is None:
            notes.add(f"a {item_type} item needs 'choices' (a list or a choice list name)",
                      data, code)
            return (), None
        return notes.choices(value, "choices", data, code), None

    def _range(self, merged: LineDict, item_type: Any, data: LineDict,
               code: str) -> tuple[int | float | None, int | float | None]:
        notes = self.notes
        if item_type not in NUMBER_TYPES:
            if ("min" in merged or "max" in merged) and item_type != "unknown":
                notes.add(f"min/max are only for integer and decimal items, not {item_type}",
                          data, code)
            return None, None
        integer = item_type == "integer"
        low = notes.number(merged.get("min"), "min", data, code, integer)
        high = notes.number(merged.get("max"), "max", data, code, integer)
        if low is not None and high is not None and low > high:
            notes.add(f"min {low} is greater than max {high}", data, code)
        return low, high

    def _element(self, value: Any, item_type: Any, data: LineDict, code: str) -> str | None:
        if value is None or item_type == "unknown":
            return None
        if item_type != "scale":
            self.notes.add(f"element is only for scale items, not {item_type}", data, code)
            return None
        if not isinstance(value, str) or value not in self.elements:
            known = ", ".join(sorted(self.elements)) or "none defined"
            self.notes.add(f"unknown element {value!r} (known: {known})", data, code)
            return None
        return str(value)

    def _missing(self, merged: LineDict, item_type: Any, na_allowed: bool,
                 choices: tuple[Choice, ...], low: Any, high: Any, data: LineDict,
                 code: str) -> Any:
        notes = self.notes
        if "missing_code" in merged and not na_allowed:
            notes.add("missing_code given but na_allowed is not true", data, code)
        if not na_allowed or item_type == "unknown":
            return None
        if item_type not in (*CHOICE_TYPES, *NUMBER_TYPES) or item_type == "select_multiple":
            notes.add(f"na_allowed is only for select_one, scale and number items, not "
                      f"{item_type}", data, code)
            return None
        missing = merged.get("missing_code", self.missing_code)
        if missing is None:
            notes.add("na_allowed needs a missing_code (here or for the instrument)", data, code)
            return None
        missing = notes.code(missing, "missing_code", data, code)
        if missing is None:
            return None
        if any(code_text(c.code) == code_text(missing) for c in choices):
            notes.add(f"missing code {missing!r} is also one of the choices", data, code)
        if item_type in NUMBER_TYPES:
            if not isinstance(missing, int):
                notes.add(f"missing code {missing!r} of a number item must be an integer",
                          data, code)
            elif (low is None or missing >= low) and (high is None or missing <= high):
                notes.add(f"missing code {missing} lies inside the allowed range "
                          f"{low}..{high}; give the item a missing_code outside it", data, code)
        return missing

    def _relevant(self, own: Any, section_relevant: str | None, data: LineDict,
                  code: str) -> tuple[str | None, Expr | None]:
        expr = parse_expression(own, "relevant", self.notes, data, code)
        if expr is not None:
            check_expression(expr, "relevant", notes=self.notes, where=data, item=code,
                             earlier=self.seen, all_codes=self.all_codes, allow_current=False)
        if expr is None and (own is not None or section_relevant is None):
            return None, None
        if expr is None:
            return section_relevant, parse(section_relevant)
        if section_relevant is None:
            return own, expr
        combined = f"({section_relevant}) and ({own})"
        return combined, parse(combined)
