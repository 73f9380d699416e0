"""Reading the small parts of a form file (texts, choices, numbers), noting every problem.

Each reader returns its best guess (or None) and records a :class:`Problem` rather than
raising, so one pass over a file reports all that is wrong with it.
"""

from __future__ import annotations

import re
from typing import Any

from survey.instruments.errors import Problem
from survey.instruments.schema import Choice, Code, Text
from survey.instruments.yaml_source import LineDict

CHOICE_CODE = re.compile(r"[A-Za-z0-9_\-]{1,32}")


class Notes:
    """Collects problems for one file; ``item`` and ``line`` give each one its place."""

    def __init__(self, file: str, languages: tuple[str, ...] = ("vi",)) -> None:
        self.file = file
        self.languages = languages
        self.problems: list[Problem] = []

    def add(self, message: str, where: Any = None, item: str | None = None,
            line: int | None = None) -> None:
        if line is None and isinstance(where, LineDict):
            line = where.line
        self.problems.append(Problem(self.file, line, item, message))

    def mapping(self, value: Any, what: str, where: Any, item: str | None = None) -> LineDict:
        """The value as a mapping (noting a problem and using {} when it is not one)."""
        if isinstance(value, LineDict):
            for key, line in value.duplicates:
                self.add(f"{what}: key {key!r} appears twice", item=item, line=line)
            return value
        self.add(f"{what} must be a mapping, not {_kind(value)}", where, item)
        return LineDict()

    def unknown_keys(self, data: LineDict, allowed: tuple[str, ...], what: str,
                     item: str | None = None) -> None:
        for key in data:
            if key not in allowed:
                self.add(f"unknown key {key!r} in {what} (allowed: {', '.join(allowed)})",
                         data, item)

    def text(self, value: Any, what: str, where: Any, item: str | None = None,
             required: bool = True) -> Text | None:
        """A bilingual text: {vi: ..., en: ...}, or plain text meaning Vietnamese."""
        if value is None:
            if required:
                self.add(f"{what} is missing (a Vietnamese 'vi' text is required)", where, item)
            return None
        if isinstance(value, str):
            value = {"vi": value}
        if not isinstance(value, dict):
            self.add(f"{what} must be text or a mapping of languages, not {_kind(value)}",
                     where, item)
            return None
        text: Text = {}
        vi_reported = False
        for language, wording in value.items():
            if language not in self.languages and wording is None:
                self.add(f"{what} has a stray key {language!r}: an unquoted ', ' inside "
                         "{ } splits the text; put the text in quotes", value or where, item)
            elif language not in self.languages:
                self.add(f"{what} has language {language!r}, which the instrument does not "
                         f"declare in 'languages' {list(self.languages)}", value or where, item)
            elif not isinstance(wording, str) or not wording.strip():
                self.add(f"{what}.{language} must be non-empty text", value or where, item)
                vi_reported = vi_reported or language == "vi"
            else:
                text[language] = wording.strip()
        if "vi" not in text:
            if not vi_reported:
                self.add(f"{what} has no Vietnamese ('vi') text", value or where, item)
            return None
        return text

    def boolean(self, value: Any, what: str, where: Any, item: str | None = None) -> bool:
        if value is None:
            return False
        if not isinstance(value, bool):
            self.add(f"{what} must be true or false, not {value!r}", where, item)
            return False
        return value

    def number(self, value: Any, what: str, where: Any, item: str | None = None,
               integer: bool = False) -> int | float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(f"{what} must be a number, not {value!r}", where, item)
            return None
        if integer and not isinstance(value, int):
            self.add(f"{what} must be a whole number for an integer item, not {value!r}",
                     where, item)
            return None
        return value

    def code(self, value: Any, what: str, where: Any, item: str | None = None) -> Code | None:
        """A choice or missing code: an integer, or short text of letters, digits, _ and -."""
        if isinstance(value, bool):
            self.add(f"{what} {value!r} reads as a yes/no value: quote it ('{value}') or use "
                     "a number", where, item)
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, str) and CHOICE_CODE.fullmatch(value):
            return value
        self.add(f"{what} {value!r} must be an integer or short text of letters, digits, "
                 "'_' or '-'", where, item)
        return None

    def choices(self, value: Any, what: str, where: Any,
                item: str | None = None) -> tuple[Choice, ...]:
        """A list of {code, label}; codes unique and all integers or all text."""
        if not isinstance(value, list) or not value:
            self.add(f"{what} must be a non-empty list of {{code, label}}", where, item)
            return ()
        choices: list[Choice] = []
        seen: set[str] = set()
        for entry in value:
            data = self.mapping(entry, f"a choice of {what}", where, item)
            self.unknown_keys(data, ("code", "label"), f"a choice of {what}", item)
            if "code" not in data:
                self.add(f"a choice of {what} has no code", data or where, item)
                continue
            code = self.code(data["code"], f"choice code in {what}", data, item)
            label = self.text(data.get("label"), f"label of choice {data['code']!r}", data,
                              item)
            if code is None:
                continue
            if str(code) in seen:
                self.add(f"choice code {code!r} appears twice in {what}", data, item)
                continue
            seen.add(str(code))
            if label is not None:
                choices.append(Choice(code, label))
        if len({type(c.code) for c in choices}) > 1:
            self.add(f"{what} mixes number and text codes; use one kind", where, item)
        return tuple(choices)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {"str": "text", "int": "a number", "float": "a number", "list": "a list",
            "bool": "true/false"}.get(type(value).__name__, type(value).__name__)
