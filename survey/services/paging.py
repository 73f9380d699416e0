"""One page of a long list, counted in the database (no list stops silently at 200 rows)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select
from sqlmodel.sql.expression import Select, SelectOfScalar

from survey.typed import whole_number

DEFAULT_SIZE = 50
MAX_SIZE = 500


@dataclass(frozen=True)
class Page:
    """Rows ``first``–``last`` of ``total``; ``number`` counts from 1."""

    items: list[Any]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        return 0 if self.total == 0 else (self.number - 1) * self.size + 1

    @property
    def last(self) -> int:
        return min(self.total, self.number * self.size)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def clamp(number: Any, size: Any = DEFAULT_SIZE) -> tuple[int, int]:
    """A page number and size from whatever was typed in the address bar (never an error)."""
    def whole(value: Any, default: int) -> int:
        typed = whole_number(str(value or "").strip(), digits=8)
        return default if typed is None else typed
    return max(1, whole(number, 1)), min(MAX_SIZE, max(1, whole(size, DEFAULT_SIZE)))


def paginate(session: Session, query: Select[Any] | SelectOfScalar[Any], number: int,
             size: int = DEFAULT_SIZE) -> Page:
    """Count the whole query once, then fetch one page of it (the last page if past the end)."""
    total = session.exec(select(func.count()).select_from(query.order_by(None).subquery())).one()
    pages = max(1, -(-total // size))
    number = min(number, pages)
    items = list(session.exec(query.offset((number - 1) * size).limit(size)).all())
    return Page(items, number, size, int(total))


def page_of(items: list[Any], number: int, size: int = DEFAULT_SIZE) -> Page:
    """One page of a list already in memory (accounts, desks: hundreds, not millions)."""
    pages = max(1, -(-len(items) // size))
    number = min(number, pages)
    return Page(items[(number - 1) * size:number * size], number, size, len(items))


def matches(search: str, *texts: str | None) -> bool:
    """Does any of ``texts`` contain ``search`` (case and spacing ignored)?"""
    wanted = " ".join(search.lower().split())
    return not wanted or any(wanted in " ".join((t or "").lower().split()) for t in texts)
