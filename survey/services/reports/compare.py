"""Comparisons: this round against the previous one, this quarter against the last.

Two rounds (or quarters) are independent samples, so the difference's SE is
√(SE₁² + SE₂²); the interval uses t with the smaller of the two df (conservative, and
never more optimistic than either estimate on its own). "Significant" means the interval
excludes zero. Suppressed or interval-less estimates give no comparison, with the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlmodel import Session, select

from analysis.ci import t_quantile
from survey.models import SurveyRound
from survey.services.reports.rows import IndexRow, in_language, number


@dataclass(frozen=True)
class Difference:
    code: str
    label: str
    current: IndexRow
    previous: IndexRow
    diff: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    df: int
    significant: bool | None
    note: str = ""

    def words(self, lang: str = "vi") -> str:
        """'up 3.1 points, not significant' — what leaders need to read."""
        if self.diff is None or self.significant is None:
            return in_language(self.note, lang)
        pts = number(abs(100 * self.diff), ".1f", lang)
        if lang == "en":
            way = "up" if self.diff > 0 else "down" if self.diff < 0 else "unchanged"
            sig = "significant" if self.significant else "not significant"
            return f"{way} {pts} points, {sig}"
        way = "tăng" if self.diff > 0 else "giảm" if self.diff < 0 else "không đổi"
        sig = "có ý nghĩa thống kê" if self.significant else "không có ý nghĩa thống kê"
        return f"{way} {pts} điểm, {sig}"


def difference(current: IndexRow, previous: IndexRow, level: float = 0.95) -> Difference:
    """Current minus previous, with SE, CI and significance (independent samples)."""
    base = dict(code=current.code, label=current.label, current=current, previous=previous)
    for row, which in ((current, "this period"), (previous, "the previous period")):
        if not row.shown or row.se is None or not math.isfinite(row.se):
            reason = row.reason or "no standard error"
            return Difference(**base, diff=None, se=None, ci_low=None, ci_high=None, df=0,
                              significant=None, note=f"no comparison: {which}: {reason}")
    assert current.estimate is not None and previous.estimate is not None
    assert current.se is not None and previous.se is not None
    diff = current.estimate - previous.estimate
    se = math.hypot(current.se, previous.se)
    df = min(current.df, previous.df)
    if df <= 0:
        return Difference(**base, diff=diff, se=se, ci_low=None, ci_high=None, df=df,
                          significant=None, note="too few PSUs (df ≤ 0): no test")
    t = float(t_quantile(df, 1 - (1 - level) / 2))
    low, high = diff - t * se, diff + t * se
    return Difference(**base, diff=diff, se=se, ci_low=low, ci_high=high, df=df,
                      significant=bool(low > 0 or high < 0))


def previous_round(session: Session, code: str) -> str | None:
    """The round before ``code`` in (year, id) order, or None for the first round."""
    rounds = session.exec(select(SurveyRound).order_by(
        SurveyRound.year, SurveyRound.id)).all()  # type: ignore[arg-type]
    codes = [r.code for r in rounds]
    if code not in codes:
        return None
    i = codes.index(code)
    return codes[i - 1] if i > 0 else None


def compare_rows(current: list[IndexRow], previous: list[IndexRow], level: float = 0.95
                 ) -> list[Difference]:
    """Pair rows by code (the overall, elements, or desks) and difference each pair."""
    before = {r.code: r for r in previous}
    return [difference(r, before[r.code], level) for r in current if r.code in before]
