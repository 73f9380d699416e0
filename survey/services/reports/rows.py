"""Display rows of the reports: engine estimates with labels, suppression and plain notes.

Every number a report shows passes through :func:`index_row`, so the dashboard, the PDF
and the exports of the tables suppress the same cells and say the same thing when an
interval does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.estimate import Estimate

NO_DF = "df ≤ 0"


@dataclass(frozen=True)
class IndexRow:
    """One displayed estimate (a share in 0..1 unless ``proportion`` is False)."""

    code: str
    label: str
    level: str
    n: int
    estimate: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    df: int
    deff: float | None
    verdict: str | None
    p_value: float | None
    mean_score: float | None
    dissatisfied: float | None
    note: str
    suppressed: bool

    @property
    def shown(self) -> bool:
        """Is there an estimate to print (not suppressed, not empty)?"""
        return not self.suppressed and self.estimate is not None

    @property
    def has_ci(self) -> bool:
        return self.shown and self.ci_low is not None and self.ci_high is not None

    @property
    def reason(self) -> str:
        """Why a number or its interval is missing, in words a reader can act on."""
        if self.suppressed:
            return f"n < min n ({self.n})"
        if self.estimate is None:
            return "no valid answers"
        if not self.has_ci:
            if self.df <= 0:
                return "too few PSUs (df ≤ 0): no confidence interval"
            return self.note or "no confidence interval"
        return ""


def index_row(est: Estimate, label: str, min_n: int, level: str | None = None) -> IndexRow:
    """Wrap an engine estimate; cells with fewer than ``min_n`` respondents are suppressed."""
    extra = est.extra or {}
    suppressed = est.n < min_n
    return IndexRow(
        code=est.name, label=label, level=level or est.level or "", n=est.n,
        estimate=None if suppressed else est.estimate,
        se=None if suppressed else est.se,
        ci_low=None if suppressed else est.ci_low,
        ci_high=None if suppressed else est.ci_high,
        df=est.df, deff=None if suppressed else est.deff,
        verdict=None if suppressed else est.verdict,
        p_value=None if suppressed else est.p_value,
        mean_score=None if suppressed else extra.get("mean_score"),
        dissatisfied=None if suppressed else extra.get("dissatisfied"),
        note=est.note, suppressed=suppressed,
    )


def number(value: float | None, spec: str = ".1f", lang: str = "en") -> str:
    """A number for people: Vietnamese readers write a decimal comma (80,4), others a dot.

    Only the display changes; exports and the engine keep plain floats.
    """
    if value is None:
        return "–"
    text = format(value, spec)
    return text.replace(".", ",") if str(lang) == "vi" else text


def pct(value: float | None, digits: int = 1, lang: str = "en") -> str:
    """A share as a percentage for people (``84.5``, ``84,5`` in Vietnamese), or an en dash."""
    return "–" if value is None else number(100 * value, f".{digits}f", lang)


def ci_text(row: IndexRow, lang: str = "en") -> str:
    return f"{pct(row.ci_low, 1, lang)}–{pct(row.ci_high, 1, lang)}" if row.has_ci else "–"


VI_REASONS = (
    ("no comparison: this period", "không so sánh được: kỳ này"),
    ("no comparison: the previous period", "không so sánh được: kỳ trước"),
    ("too few PSUs (df ≤ 0): no confidence interval",
     "quá ít đơn vị mẫu (df ≤ 0): không có khoảng tin cậy"),
    ("too few PSUs (df ≤ 0): no test", "quá ít đơn vị mẫu (df ≤ 0): không kiểm định được"),
    ("n < min n", "n dưới mức tối thiểu"),
    ("no valid answers", "không có câu trả lời hợp lệ"),
    ("no confidence interval", "không có khoảng tin cậy"),
    ("no standard error", "không có sai số chuẩn"),
    ("no CI", "không có KTC"),  # a chart's short label
)


def in_language(text: str, lang: str) -> str:
    """Why-texts of rows and comparisons in the reader's language (English is the source)."""
    if str(lang) != "vi":
        return text
    for en, vi in VI_REASONS:
        text = text.replace(en, vi)
    return text
