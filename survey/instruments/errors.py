"""How a broken form file is reported: every problem, each with file, line and item."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a form file; ``item`` is None for instrument-level problems."""

    file: str
    line: int | None
    item: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        subject = f"item {self.item!r}: " if self.item else ""
        return f"{where}: {subject}{self.message}"


class FormError(ValueError):
    """A form file (or a forms directory) is invalid; lists all of its problems at once.

    Authors fix a questionnaire in one pass rather than one error per run, so the message
    carries every problem, one per line, each naming the file, line and item.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        files = sorted({p.file for p in self.problems})
        count = len(self.problems)
        head = f"{', '.join(files)}: {count} problem{'s' if count != 1 else ''} in form"
        super().__init__("\n".join([head, *(f"  {p}" for p in self.problems)]))
