"""Server-rendered charts (matplotlib): dots with CI error bars and the target line.

Charts are drawn with ``matplotlib.figure.Figure`` (no pyplot global state, safe in a
threaded server) and returned as SVG for pages (embedded as ``data:`` images, which the
CSP allows and which need no JavaScript) or PNG for the PDF. Suppressed cells and estimates
without an interval are drawn as what they are: a label saying why, or a dot without bars.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

from survey.services.reports_rows import IndexRow

BLUE, GREY, RED = "#1f5fa8", "#777777", "#b3261e"


def _figure(width: float, height: float):  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    matplotlib.rcParams["font.family"] = "DejaVu Sans"
    matplotlib.rcParams["svg.hashsalt"] = "sipas"
    fig = Figure(figsize=(width, height), dpi=100)
    return fig, fig.add_subplot(1, 1, 1)


def _render(fig, fmt: str) -> bytes:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    meta = {"Date": None} if fmt == "svg" else {}
    fig.savefig(buf, format=fmt, bbox_inches="tight", dpi=150 if fmt == "png" else 100,
                metadata=meta)
    return buf.getvalue()


def data_uri(svg: bytes) -> str:
    """An ``<img src>`` for an SVG (the CSP allows ``data:`` images, not inline SVG styles)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def _short(text: str, limit: int = 48) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def dot_chart(rows: Sequence[tuple[str, IndexRow]], target: float | None, title: str,
              fmt: str = "svg", note_suppressed: str = "n < min n") -> bytes:
    """Horizontal dots (percent) with CI bars, one line per row, top to bottom."""
    fig, ax = _figure(7.5, 0.9 + 0.42 * max(len(rows), 1))
    ys = list(range(len(rows)))[::-1]
    for y, (_label, row) in zip(ys, rows, strict=True):
        if not row.shown:
            ax.text(1, y, note_suppressed if row.suppressed else "–", va="center",
                    ha="left", color=GREY, fontsize=8)
            continue
        est = 100 * (row.estimate or 0)
        if row.has_ci:
            low, high = 100 * (row.ci_low or 0), 100 * (row.ci_high or 0)
            ax.errorbar(est, y, xerr=[[est - low], [high - est]], fmt="o", color=BLUE,
                        ecolor=BLUE, capsize=3, markersize=5)
        else:
            ax.plot(est, y, "o", color=GREY, markersize=5)
            ax.text(est + 1, y + 0.15, "no CI", fontsize=7, color=GREY)
        ax.text(101, y, f"{est:.1f}", va="center", fontsize=8)
    if target is not None:
        ax.axvline(100 * target, color=RED, linestyle="--", linewidth=1)
        ax.text(100 * target, -0.65, f" {100 * target:.0f}%", color=RED, fontsize=8)
    ax.set_yticks(ys)
    ax.set_yticklabels([_short(label) for label, _ in rows], fontsize=8)
    ax.set_xlim(0, 108)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlabel("%", fontsize=8)
    ax.set_title(title, fontsize=10, loc="left")
    ax.grid(axis="x", color="#dddddd", linewidth=0.5)
    return _render(fig, fmt)


def trend_chart(points: Sequence[tuple[str, IndexRow]], target: float | None, title: str,
                fmt: str = "svg") -> bytes:
    """Estimates over time (rounds or quarters) with CI bars and the target line."""
    fig, ax = _figure(7.5, 3.0)
    xs = list(range(len(points)))
    for x, (_label, row) in zip(xs, points, strict=True):
        if not row.shown:
            continue
        est = 100 * (row.estimate or 0)
        if row.has_ci:
            ax.errorbar(x, est, yerr=[[est - 100 * (row.ci_low or 0)],
                                      [100 * (row.ci_high or 0) - est]],
                        fmt="o", color=BLUE, capsize=4)
        else:
            ax.plot(x, est, "o", color=GREY)
        ax.annotate(f"{est:.1f}", (x, est), textcoords="offset points", xytext=(8, 0),
                    fontsize=8)
    shown = [(x, 100 * (r.estimate or 0)) for x, (_, r) in zip(xs, points, strict=True)
             if r.shown]
    if len(shown) > 1:
        ax.plot([s[0] for s in shown], [s[1] for s in shown], color=BLUE, linewidth=0.8)
    if target is not None:
        ax.axhline(100 * target, color=RED, linestyle="--", linewidth=1)
    ax.set_xticks(xs)
    ax.set_xticklabels([label for label, _ in points], fontsize=8)
    ax.set_xlim(-0.5, max(len(points) - 0.5, 0.5))
    ax.set_ylim(40, 100)
    ax.set_ylabel("%", fontsize=8)
    ax.set_title(title, fontsize=10, loc="left")
    ax.grid(axis="y", color="#dddddd", linewidth=0.5)
    return _render(fig, fmt)
