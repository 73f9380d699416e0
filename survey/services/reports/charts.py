"""Server-rendered charts (matplotlib): dots with CI error bars and the target line.

Charts are drawn with ``matplotlib.figure.Figure`` (no pyplot global state, safe in a
threaded server) and returned as SVG or PNG (for the PDF). The dashboard links its charts
(:class:`Chart`, :func:`keep`): the browser asks for each while it shows the page's words
and tables, and keeps an unchanged one. The printable HTML report embeds them as ``data:``
images (one self-contained file). Suppressed cells and estimates without an interval are
drawn as what they are: a label saying why, or a dot without bars.
"""

from __future__ import annotations

import base64
import io
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from babel.numbers import format_decimal

from survey.services.reports import cache
from survey.services.reports.rows import IndexRow, in_language, number
from survey.services.reports.words import T

BLUE, GREY, RED = "#1f5fa8", "#777777", "#b3261e"


def _figure(width: float, height: float):  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    matplotlib.rcParams["font.family"] = "DejaVu Sans"
    matplotlib.rcParams["svg.hashsalt"] = "sipas"
    # SVG text as text, not one path per glyph: a third less drawing time, a chart a third
    # of the bytes, and words a screen reader (and a search) can find; the browser draws
    # them in DejaVu Sans or its own sans-serif, both with Vietnamese letters
    matplotlib.rcParams["svg.fonttype"] = "none"
    fig = Figure(figsize=(width, height), dpi=100)
    return fig, fig.add_subplot(1, 1, 1)


def _render(fig, fmt: str, tight: bool = True) -> bytes:  # type: ignore[no-untyped-def]
    """The figure as SVG or PNG. ``tight``: cropped to what is drawn, which costs matplotlib
    a whole second layout pass; a chart that placed its own margins (:func:`_fit`) is
    saved as it is, in one pass."""
    buf = io.BytesIO()
    meta = {"Date": None} if fmt == "svg" else {}
    fig.savefig(buf, format=fmt, bbox_inches="tight" if tight else None,
                dpi=150 if fmt == "png" else 100, metadata=meta)
    return buf.getvalue()


_ADVANCES: dict[tuple[str, float], float] = {}  # (character, points) -> inches


def _text_inches(text: str, size: float) -> float:
    """About how wide ``text`` prints in DejaVu Sans at ``size`` points: the sum of its
    characters' advances (kerning left out: within a few percent, and the margins keep
    0.2 in to spare). Each character's advance is asked of FreeType once per process;
    laying a whole label out costs FreeType 1-3 ms, and a chart has thirty labels."""
    total = 0.0
    for ch in text:
        width = _ADVANCES.get((ch, size))
        if width is None:
            from matplotlib.font_manager import FontProperties, findfont, get_font
            from matplotlib.ft2font import LoadFlags

            font = get_font(findfont(FontProperties(family="DejaVu Sans")))
            font.set_size(size, 72)  # 72 dpi: the advance comes out in points
            glyph = font.load_char(ord(ch), flags=LoadFlags.NO_HINTING)
            width = _ADVANCES[(ch, size)] = glyph.linearHoriAdvance / 65536 / 72  # 16.16
        total += width
    return total


def _fit(fig, labels: Sequence[str], title: str, height: float) -> None:  # type: ignore[no-untyped-def]
    """Margins for a dot chart measured from its words, instead of a layout pass: the
    longest row label (8 pt) on the left, the title (10 pt) above, the axis label below.
    The figure widens when its title would not fit."""
    left, width = _fit_width(labels, title)
    fig.set_size_inches(width, height)
    fig.subplots_adjust(left=left / width, right=1 - 0.1 / width, top=1 - 0.35 / height,
                        bottom=0.45 / height)


def _fit_width(labels: Sequence[str], title: str) -> tuple[float, float]:
    """A dot chart's left margin and whole width, in inches (see :func:`_fit`)."""
    left = max([_text_inches(lab, 8) for lab in labels] or [0.0]) + 0.2
    return left, max(7.5, left + _text_inches(title, 10) + 0.2)


_VIETNAMESE = "àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ"
LETTERS = "".join(chr(c) for c in range(32, 127)) + _VIETNAMESE + _VIETNAMESE.upper() + "–…·"


def warm_up() -> None:
    """Import matplotlib and draw one small chart, as a server worker starts: a worker's
    first dashboard otherwise pays about a second of imports and font loading that every
    later one is spared (survey/serving.py calls this). Then every letter of Vietnamese
    and English is measured (:func:`_text_inches`) and both languages' number formats are
    loaded: a first page otherwise asks FreeType and Babel for them one by one."""
    fig, ax = _figure(2, 1)
    ax.errorbar([0.5], [0], xerr=[[0.1], [0.1]], fmt="o")
    ax.set_title("SIPAS")
    _render(fig, "svg")
    for size in (8, 10):
        _text_inches(LETTERS, size)
    for lang in ("vi", "en"):
        format_decimal(1234.5, locale=lang)


def data_uri(svg: bytes) -> str:
    """An ``<img src>`` for an SVG (the CSP allows ``data:`` images, not inline SVG styles)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def _short(text: str, limit: int = 48) -> str:
    """A chart label within ``limit`` characters, cut at a word (never mid-word) with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut and not text[limit - 1].isspace():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:·–-") + "…"


CHART_ROWS = 30  # beyond this, a chart shows the extremes and the table below shows all


def extremes(rows: Sequence[tuple[str, IndexRow]], limit: int = CHART_ROWS
             ) -> tuple[list[tuple[str, IndexRow]], int]:
    """At most ``limit`` rows to chart: all of them, or the highest and lowest estimates.

    500 desks or 800 communes in one chart are neither legible nor cheap (about 6 ms a row);
    the extremes are what a reader looks for, and the table under the chart lists every row.
    Returns the rows to draw (highest first when cut) and how many were left out.
    """
    if len(rows) <= limit:
        return list(rows), 0
    shown = sorted((r for r in rows if r[1].shown), key=lambda r: -(r[1].estimate or 0.0))
    half = limit // 2
    if len(shown) <= limit:
        return shown, len(rows) - len(shown)
    return shown[:half] + shown[-half:], len(rows) - 2 * half


@dataclass(frozen=True)
class Chart:
    """A chart to draw: everything it draws, not yet drawn.

    The dashboard links its charts (``<img src>``) instead of drawing them into the page:
    the browser asks for them while it shows the page's words and tables, the server draws
    each on its own request (and any worker may), and an unchanged chart is kept by the
    browser under its key. :func:`keep` and :func:`kept` hold the plans for those requests.
    """

    kind: str  # "dot-chart" or "trend-chart"
    args: tuple

    @property
    def key(self) -> str:
        """Names exactly what is drawn (and the code that draws it): a chart's URL."""
        return cache.key_of(self.kind, self.args)

    def draw(self) -> bytes:
        """The chart as SVG or PNG, drawn once per process and kept on disk."""
        return (_dot_chart if self.kind == "dot-chart" else _trend_chart)(*self.args)

    @property
    def inches(self) -> tuple[float, float]:
        """Its width and height as drawn (a trend chart's, before it is cropped): the page
        reserves the room before the image arrives."""
        if self.kind == "trend-chart":
            return 7.5, 3.2 if len(self.args[1]) < 2 else 3.8
        drawn, left_out, _target, title, _fmt, _note, lang = self.args
        rows, title, height = _dot_layout(drawn, left_out, title, lang)
        return _fit_width([_short(label) for label, _row in rows], title)[1], height


_DRAWING = threading.Lock()


def _one_at_a_time(draw: Callable[..., bytes], args: tuple) -> bytes:
    """Draw one chart at a time per process. matplotlib is not thread-safe, and a browser
    asks for a page's charts all at once, so several threads of one worker would draw
    together; under the GIL they would not draw any sooner."""
    with _DRAWING:
        return draw(*args)


_PLANS: OrderedDict[tuple[str, int | None], Chart] = OrderedDict()
_PLANS_LOCK = threading.Lock()
PLANS_KEPT = 256  # about 30 pages of charts per process; older ones are read from disk


def keep(chart: Chart, area: int | None) -> str:
    """Hold a chart's plan for the request that will ask for it, in this process and on
    disk (another worker, or this one after a restart, may get that request). Returns its
    key. The plan is held for the reader's area (``area``: the unit id of the account's
    area, None for the whole deployment): only a reader of that same area finds it."""
    key = chart.key
    with _PLANS_LOCK:
        _PLANS[(key, area)] = chart
        _PLANS.move_to_end((key, area))
        while len(_PLANS) > PLANS_KEPT:
            _PLANS.popitem(last=False)
    if not cache.has("chart-plan", (key, area)):
        cache.keep("chart-plan", (key, area), chart)
    return key


def kept(key: str, area: int | None) -> Chart | None:
    """The plan held under ``key`` for a reader of ``area`` (:func:`keep`), or None."""
    with _PLANS_LOCK:
        chart = _PLANS.get((key, area))
    if chart is not None:
        return chart
    found = cache.recall("chart-plan", (key, area))  # its file is named by key and area
    return found if isinstance(found, Chart) else None


def dot_chart(rows: Sequence[tuple[str, IndexRow]], target: float | None, title: str,
              fmt: str = "svg", note_suppressed: str = "n < min n", lang: str = "en") -> bytes:
    """Horizontal dots (percent) with CI bars, one line per row, top to bottom; of a long
    list, its extremes (:func:`extremes`). See :func:`plan_dots`."""
    return plan_dots(rows, target, title, fmt, note_suppressed, lang).draw()


def plan_dots(rows: Sequence[tuple[str, IndexRow]], target: float | None, title: str,
              fmt: str = "svg", note_suppressed: str = "n < min n", lang: str = "en"
              ) -> Chart:
    """The dot chart of ``rows``, to draw now or when asked for.

    Drawing costs far more than estimating, so charts are kept per process and on disk
    (:mod:`survey.services.reports.cache`) keyed by exactly what they draw (the rows drawn,
    how many were left out, target, title, format, language): new data is a new key, so a
    kept chart can never show old numbers, and a new evaluation at a desk the chart of 500
    desks does not draw does not draw it again.
    """
    drawn, left_out = extremes(rows)
    return Chart("dot-chart", (tuple(drawn), left_out, target, title, fmt, note_suppressed,
                               lang))


@lru_cache(maxsize=128)  # an SVG is up to ~100 KB
def _dot_chart(drawn: tuple[tuple[str, IndexRow], ...], left_out: int, target: float | None,
               title: str, fmt: str, note_suppressed: str, lang: str) -> bytes:
    args = (drawn, left_out, target, title, fmt, note_suppressed, lang)
    return cache.remember("dot-chart", args, lambda: _one_at_a_time(_draw_dots, args))


def _dot_layout(drawn: tuple[tuple[str, IndexRow], ...], left_out: int, title: str, lang: str
                ) -> tuple[tuple[tuple[str, IndexRow | None], ...], str, float]:
    """The rows a dot chart prints (with the line saying how many were left out, between
    the highest and the lowest), its title and its height in inches."""
    rows: tuple[tuple[str, IndexRow | None], ...] = drawn
    if left_out:
        half = len(drawn) // 2
        words = T.get(lang, T["en"])
        gap = (words["chart_more"].format(n=format_decimal(left_out, locale=lang)), None)
        rows = (*drawn[:half], gap, *drawn[half:])
        title = f"{title} ({words['chart_extremes'].format(n=half)})"
    return rows, title, 0.9 + 0.42 * max(len(rows), 1)


def _draw_dots(drawn: tuple[tuple[str, IndexRow], ...], left_out: int, target: float | None,
               title: str, fmt: str, note_suppressed: str, lang: str) -> bytes:
    rows, title, height = _dot_layout(drawn, left_out, title, lang)
    fig, ax = _figure(7.5, height)
    ys = list(range(len(rows)))[::-1]
    # every dot with an interval in one errorbar (one set of artists, not one per row:
    # drawing is most of a page's cost), every dot without one in one plot
    with_ci: list[tuple[float, float, float, float]] = []
    without: list[tuple[float, float]] = []
    for y, (_label, row) in zip(ys, rows, strict=True):
        if row is None:  # the gap between the highest and the lowest
            continue
        if not row.shown:
            ax.text(1, y, in_language(note_suppressed, lang) if row.suppressed else "–",
                    va="center", ha="left", color=GREY, fontsize=8)
            continue
        est = 100 * (row.estimate or 0)
        if row.has_ci:
            with_ci.append((est, y, est - 100 * (row.ci_low or 0),
                            100 * (row.ci_high or 0) - est))
        else:
            without.append((est, y))
            ax.text(est + 1, y + 0.15, in_language("no CI", lang), fontsize=7, color=GREY)
        ax.text(101, y, number(est, ".1f", lang), va="center", fontsize=8)
    if with_ci:
        est_, y_, below, above = zip(*with_ci, strict=True)
        ax.errorbar(est_, y_, xerr=[below, above], fmt="o", color=BLUE, ecolor=BLUE,
                    capsize=3, markersize=5)
    if without:
        ax.plot(*zip(*without, strict=True), "o", color=GREY, markersize=5)
    if target is not None:
        ax.axvline(100 * target, color=RED, linestyle="--", linewidth=1)
        ax.text(100 * target, -0.65, f" {100 * target:.0f}%", color=RED, fontsize=8)
    ax.set_yticks(ys)
    labels = [_short(label) for label, _ in rows]
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xlim(0, 108)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlabel("%", fontsize=8)
    # placed, not found: matplotlib otherwise measures every label again to put the title
    # above them (nothing is drawn above the axes here)
    ax.set_title(title, fontsize=10, loc="left", y=1.0)
    ax.grid(axis="x", color="#dddddd", linewidth=0.5)
    _fit(fig, labels, title, height)
    return _render(fig, fmt, tight=False)


PALETTE = (BLUE, "#e07b00", "#2e8b57", "#8e44ad", "#b8860b", "#555555", "#c2185b")


def point_id(series: int, label: str) -> str:
    """The SVG id of one drawn point (tests and screen readers can find each quarter)."""
    return f"point-{series}-" + "".join(ch if ch.isalnum() else "_" for ch in label)


def trend_chart(labels: Sequence[str], series: Sequence[tuple[str, Sequence[IndexRow | None]]],
                target: float | None, title: str, fmt: str = "svg", lang: str = "en",
                counts: Sequence[int] | None = None) -> bytes:
    """Estimates over time (quarters or rounds), one line per series, CI bars, target
    line. See :func:`plan_trend`."""
    return plan_trend(labels, series, target, title, fmt, lang, counts).draw()


def plan_trend(labels: Sequence[str], series: Sequence[tuple[str, Sequence[IndexRow | None]]],
               target: float | None, title: str, fmt: str = "svg", lang: str = "en",
               counts: Sequence[int] | None = None) -> Chart:
    """The trend chart, to draw now or when asked for.

    ``series`` pairs a name with one row per label (``None`` or a suppressed row: no
    point). Series are dodged sideways so their bars do not hide each other; ``counts``
    (n of the first series) print under the period labels, so every point shows its n.
    Kept per process and on disk like :func:`plan_dots`, keyed by everything it draws.
    """
    return Chart("trend-chart", (tuple(labels),
                                 tuple((name, tuple(rows)) for name, rows in series),
                                 target, title, fmt, lang,
                                 None if counts is None else tuple(counts)))


@lru_cache(maxsize=64)
def _trend_chart(labels: tuple[str, ...],
                 series: tuple[tuple[str, tuple[IndexRow | None, ...]], ...],
                 target: float | None, title: str, fmt: str, lang: str,
                 counts: tuple[int, ...] | None) -> bytes:
    args = (labels, series, target, title, fmt, lang, counts)
    return cache.remember("trend-chart", args, lambda: _one_at_a_time(_draw_trend, args))


def _draw_trend(labels: tuple[str, ...],
                series: tuple[tuple[str, tuple[IndexRow | None, ...]], ...],
                target: float | None, title: str, fmt: str, lang: str,
                counts: tuple[int, ...] | None) -> bytes:
    fig, ax = _figure(7.5, 3.2 if len(series) < 2 else 3.8)
    xs = list(range(len(labels)))
    width = 0.5 if len(series) > 1 else 0.0
    for s_i, (name, rows) in enumerate(series):
        color = PALETTE[s_i % len(PALETTE)]
        shift = -width / 2 + width * s_i / max(len(series) - 1, 1) if width else 0.0
        drawn: list[tuple[float, float]] = []
        bars: list[tuple[float, float, float, float]] = []
        for x, label, row in zip(xs, labels, rows, strict=True):
            if row is None or not row.shown:
                continue
            est = 100 * (row.estimate or 0)
            x_at = x + shift
            if row.has_ci:
                bars.append((x_at, est, est - 100 * (row.ci_low or 0),
                             100 * (row.ci_high or 0) - est))
                (dot,) = ax.plot(x_at, est, "o", color=color, markersize=5)
            else:
                (dot,) = ax.plot(x_at, est, "o", color=color, markerfacecolor="white")
            dot.set_gid(point_id(s_i, label))  # each point its own id
            if s_i == 0:
                ax.annotate(number(est, ".1f", lang), (x_at, est), textcoords="offset points",
                            xytext=(7, 0), fontsize=8, color=color)
            drawn.append((x_at, est))
        if bars:  # a series' intervals in one errorbar (one per point took 6 ms each)
            bx, by, below, above = zip(*bars, strict=True)
            ax.errorbar(bx, by, yerr=[below, above], fmt="none", ecolor=color, capsize=3,
                        zorder=1.9)
        if drawn:
            ax.plot([d[0] for d in drawn], [d[1] for d in drawn], color=color,
                    linewidth=1.2 if s_i == 0 else 0.8, label=_short(name, 40))
    if target is not None:
        ax.axhline(100 * target, color=RED, linestyle="--", linewidth=1)
    ax.set_xticks(xs)
    ticks = [f"{lab}\nn = {c}" for lab, c in zip(labels, counts, strict=True)] if counts \
        else list(labels)
    ax.set_xticklabels(ticks, fontsize=8)
    ax.set_xlim(-0.6, max(len(labels) - 0.4, 0.6))
    lows = [100 * (r.ci_low if r.ci_low is not None else r.estimate or 0)
            for _n, rows in series for r in rows if r is not None and r.shown]
    ax.set_ylim(min([40.0, *(v - 5 for v in lows)]), 102)
    ax.set_ylabel("%", fontsize=8)
    ax.set_title(title, fontsize=10, loc="left")
    ax.grid(axis="y", color="#dddddd", linewidth=0.5)
    if len(series) > 1 and ax.get_legend_handles_labels()[0]:  # every cell suppressed: none
        ax.legend(fontsize=7, loc="lower left", frameon=False, ncol=2)
    return _render(fig, fmt)
