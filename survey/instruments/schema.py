"""What an instrument is once loaded: frozen, checked, and cheap to query.

The web app stores :attr:`Instrument.source_text` and :attr:`Instrument.content_hash` for
each published version, and the analysis CLI reads ``elements``, ``satisfied_codes`` and
``valid_codes``; both rely on these objects never changing after loading.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from survey.instruments.expr_nodes import Expr
from survey.instruments.values import code_text

Text = dict[str, str]  # language code -> wording; "vi" always present
Code = int | str

ITEM_TYPES = ("select_one", "select_multiple", "scale", "integer", "decimal", "text", "date",
              "note")
CHOICE_TYPES = ("select_one", "select_multiple", "scale")
NUMBER_TYPES = ("integer", "decimal")
KINDS = ("household", "desk", "policy")

# Item codes become export columns, database keys and R/Stata variable names: lower case
# ASCII, starting with a letter, at most 32 characters (Stata's limit).
CODE_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,31}")
# Columns that every export already has (issue 2); an item must not shadow them.
RESERVED_CODES = frozenset({
    "response_id", "instrument", "instrument_version", "round", "mode", "status", "outcome",
    "province", "district", "commune", "hamlet", "stratum", "psu", "prob_stage1",
    "prob_stage2", "weight", "questionnaire_id", "enumerator", "desk", "created_at",
    "updated_at", "client_uuid", "dossier_code_hash",
})


@dataclass(frozen=True)
class Choice:
    code: Code
    label: Text

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "label": dict(self.label)}


@dataclass(frozen=True)
class Item:
    """One question (or a note) with everything a screen needs to show and check it.

    ``relevant`` is the item's effective skip condition: its section's condition and its
    own, joined with ``and``, so that a screen evaluates one expression per item.
    """

    code: str
    type: str
    label: Text
    section: str
    hint: Text | None = None
    choices: tuple[Choice, ...] = ()
    choice_list: str | None = None
    required: bool = False
    relevant: Expr | None = None
    relevant_text: str | None = None
    constraint: Expr | None = None
    constraint_text: str | None = None
    constraint_message: Text | None = None
    min: int | float | None = None
    max: int | float | None = None
    element: str | None = None
    na_allowed: bool = False
    missing_code: Code | None = None
    line: int | None = None

    @property
    def is_question(self) -> bool:
        """Does the item take an answer? (A note only shows text.)"""
        return self.type != "note"

    @property
    def choice_codes(self) -> tuple[Code, ...]:
        return tuple(choice.code for choice in self.choices)

    def choice(self, code: Any) -> Choice | None:
        """The choice named by a code given as 3, "3" or 3.0; None when there is none."""
        wanted = code_text(code)
        return next((c for c in self.choices if code_text(c.code) == wanted), None)

    def is_missing_code(self, value: Any) -> bool:
        """Is the value this item's "no answer / not applicable" code (when allowed)?"""
        return (self.na_allowed and self.missing_code is not None
                and code_text(value) == code_text(self.missing_code))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description, with expressions as text and as a JSON syntax tree."""
        return {
            "code": self.code, "type": self.type, "label": dict(self.label),
            "section": self.section,
            "hint": dict(self.hint) if self.hint else None,
            "choices": [c.to_dict() for c in self.choices], "choice_list": self.choice_list,
            "required": self.required,
            "relevant": self.relevant_text,
            "relevant_json": self.relevant.to_json() if self.relevant else None,
            "constraint": self.constraint_text,
            "constraint_json": self.constraint.to_json() if self.constraint else None,
            "constraint_message": dict(self.constraint_message) if self.constraint_message
            else None,
            "min": self.min, "max": self.max, "element": self.element,
            "na_allowed": self.na_allowed, "missing_code": self.missing_code,
        }


@dataclass(frozen=True)
class Section:
    code: str
    title: Text
    items: tuple[Item, ...]
    description: Text | None = None
    relevant_text: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "title": dict(self.title),
                "description": dict(self.description) if self.description else None,
                "relevant": self.relevant_text, "items": [i.code for i in self.items]}


@dataclass(frozen=True)
class Element:
    """A SIPAS element (I..V): a group of satisfaction criteria averaged into one index."""

    code: str
    label: Text
    items: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "label": dict(self.label), "items": list(self.items)}


@dataclass(frozen=True)
class Instrument:
    code: str
    version: str
    kind: str
    title: Text
    sections: tuple[Section, ...]
    elements: tuple[Element, ...]
    scale: tuple[Choice, ...]
    satisfied_codes: tuple[int, ...]
    dissatisfied_codes: tuple[int, ...]
    missing_code: int | None
    languages: tuple[str, ...] = ("vi",)
    description: Text | None = None
    missing_label: Text | None = None
    choice_lists: Mapping[str, tuple[Choice, ...]] = field(default_factory=dict)
    source_text: str = ""
    content_hash: str = ""
    path: str | None = None
    items: tuple[Item, ...] = field(init=False)
    _by_code: dict[str, Item] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        items = tuple(item for section in self.sections for item in section.items)
        object.__setattr__(self, "items", items)
        object.__setattr__(self, "_by_code", {item.code: item for item in items})

    @property
    def valid_codes(self) -> tuple[int, ...]:
        """The satisfaction scale's codes (e.g. 1..5): the denominator of every index."""
        return tuple(int(choice.code) for choice in self.scale)

    @property
    def questions(self) -> tuple[Item, ...]:
        """Items that take an answer (notes left out): the export columns, in order."""
        return tuple(item for item in self.items if item.is_question)

    def item(self, code: str) -> Item:
        try:
            return self._by_code[code]
        except KeyError:
            raise KeyError(f"instrument {self.code} {self.version} has no item {code!r}") \
                from None

    def has_item(self, code: str) -> bool:
        return code in self._by_code

    def element(self, code: str) -> Element:
        for element in self.elements:
            if element.code == code:
                return element
        raise KeyError(f"instrument {self.code} {self.version} has no element {code!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (what a screen or an API needs; not the YAML itself)."""
        return {
            "code": self.code, "version": self.version, "kind": self.kind,
            "title": dict(self.title),
            "description": dict(self.description) if self.description else None,
            "languages": list(self.languages),
            "scale": [c.to_dict() for c in self.scale],
            "satisfied_codes": list(self.satisfied_codes),
            "dissatisfied_codes": list(self.dissatisfied_codes),
            "valid_codes": list(self.valid_codes),
            "missing_code": self.missing_code,
            "missing_label": dict(self.missing_label) if self.missing_label else None,
            "elements": [e.to_dict() for e in self.elements],
            "sections": [s.to_dict() for s in self.sections],
            "items": [i.to_dict() for i in self.items],
            "content_hash": self.content_hash,
        }
