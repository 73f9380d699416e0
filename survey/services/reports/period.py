"""Report periods: a year ``2025``, a quarter ``2025-Q3`` or a month ``2025-09``.

Desk evaluations and dossier volumes are counted over a period; the household survey is
estimated per round (a round is its own period), so a period only picks the round.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from survey.messages import N_, UserError

_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Period:
    """A half-open date range [start, end) with the code it was written as."""

    code: str
    kind: str  # year / quarter / month
    start: date
    end: date

    @property
    def year(self) -> int:
        return self.start.year

    def previous(self) -> Period:
        """The period of the same kind just before (Q1 → Q4 of the year before)."""
        if self.kind == "year":
            return parse_period(str(self.year - 1))
        if self.kind == "quarter":
            q = (self.start.month - 1) // 3 + 1
            return parse_period(f"{self.year - 1}-Q4" if q == 1 else f"{self.year}-Q{q - 1}")
        m = self.start.month
        return parse_period(f"{self.year - 1}-12" if m == 1 else f"{self.year}-{m - 1:02d}")

    def contains(self, other: Period) -> bool:
        return self.start <= other.start and other.end <= self.end


FIRST_YEAR, LAST_YEAR = 1900, 2999  # a period's year (0000 or 9999 has no calendar)


def _month_start(year: int, month: int) -> date:
    return date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def parse_period(text: str) -> Period:
    """Read ``2025``, ``2025-Q3`` or ``2025-09``; anything else is a precise ValueError."""
    raw = (text or "").strip()
    year = _YEAR.match(raw) or _QUARTER.match(raw) or _MONTH.match(raw)
    if year and not FIRST_YEAR <= int(year.group(1)) <= LAST_YEAR:
        raise UserError(N_("period '%(period)s': the year must be %(first)s to %(last)s"),
                        period=raw[:20], first=FIRST_YEAR, last=LAST_YEAR)
    if m := _YEAR.match(raw):
        y = int(m.group(1))
        return Period(raw, "year", date(y, 1, 1), date(y + 1, 1, 1))
    if m := _QUARTER.match(raw):
        y, q = int(m.group(1)), int(m.group(2))
        return Period(f"{y}-Q{q}", "quarter", _month_start(y, 3 * q - 2),
                      _month_start(y, 3 * q + 1))
    if m := _MONTH.match(raw):
        y, mo = int(m.group(1)), int(m.group(2))
        if not 1 <= mo <= 12:
            raise UserError(N_("period '%(period)s': the month must be 01 to 12"), period=raw)
        return Period(raw, "month", date(y, mo, 1), _month_start(y, mo + 1))
    raise UserError(N_("period '%(period)s' must look like 2025 (year), 2025-Q3 (quarter) or "
                       "2025-09 (month)"), period=raw[:20])


def quarters_of(period: Period) -> list[Period]:
    """The quarters a period overlaps (for the trend chart)."""
    first = (period.start.month - 1) // 3 + 1
    out = [parse_period(f"{period.year}-Q{first}")]
    while out[-1].end < period.end:
        nxt = out[-1].end
        out.append(parse_period(f"{nxt.year}-Q{(nxt.month - 1) // 3 + 1}"))
    return out


ROMAN = ("I", "II", "III", "IV")


def period_label(period: Period, lang: str = "vi") -> str:
    """A period as people write it: "Quý III/2025", "Tháng 7/2025", "Năm 2025" (the
    glossary's forms), or "Q3 2025", "July 2025", "2025" in English."""
    if period.kind == "quarter":
        q = (period.start.month - 1) // 3 + 1
        return f"Quý {ROMAN[q - 1]}/{period.year}" if lang == "vi" else f"Q{q} {period.year}"
    if period.kind == "month":
        if lang == "vi":
            return f"Tháng {period.start.month}/{period.year}"
        return period.start.strftime("%B %Y")
    return f"Năm {period.year}" if lang == "vi" else str(period.year)


def current_quarter(zone: str = "Asia/Ho_Chi_Minh") -> Period:
    """The quarter the province is in today (its own time zone)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo(zone)).date()
    return parse_period(f"{today.year}-Q{(today.month - 1) // 3 + 1}")
