"""``sipas rank``: areas ranked by an estimate, each rank with its 95% interval.

Thin wrapper over :func:`analysis.ranking.rank_intervals`. Reads a small CSV of areas (the
output of ``sipas index --format csv --by province``, ``sipas smallarea`` or any table with
an area, an estimate and its SE); ``--where`` keeps the rows of one indicator. Imports
neither Flask nor SQLModel.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import click

from analysis.cli import _emit, one_line_errors


def _rows(data: str, columns: list[str], where: list[tuple[str, str]]) -> list[dict[str, str]]:
    with Path(data).open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        for name in columns + [c for c, _ in where]:
            if name not in header:
                raise ValueError(f"{data} has no column {name!r} (it has: {', '.join(header)})")
        return [row for row in reader if all(row[c] == v for c, v in where)]


def _number(text: str, column: str, line: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"row {line}: {column} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"row {line}: {column} is empty or not finite (an area without an "
                         "estimate or SE cannot be ranked)")
    return value


def ranking_table(rows: list[dict], level: float, joint: bool) -> str:
    """The ranks for people, with what the intervals mean."""
    head = ["Hạng / Rank", f"Khoảng hạng {level:.0%} / rank interval", "Địa bàn / Area",
            "Ước lượng / Estimate", "SE", "Không phân biệt được với / Cannot be told apart from"]
    body = [[str(r["rank"]), f"{r['rank_low']}–{r['rank_high']}", r["area"],
             f"{r['estimate']:.4f}", f"{r['se']:.4f}", ", ".join(r["not_apart"]) or "–"]
            for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head[:-1])]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head[:-1], widths, strict=True)) + "  "
             + head[-1]]
    lines += ["  ".join(c.ljust(w) for c, w in zip(b[:-1], widths, strict=True)) + "  " + b[-1]
              for b in body]
    scope = ("cùng đúng cho cả bảng / all hold together" if joint else
             "mỗi khoảng đúng cho một địa bàn / each holds for one area")
    lines.append(f"Phương pháp / method: Klein–Wright–Wieczorek (2020), Bonferroni; {scope}. "
                 "Hạng 1 = cao nhất / rank 1 = highest.")
    return "\n".join(lines)


@click.command("rank")
@click.argument("data", type=click.Path(dir_okay=False))
@click.option("--area", required=True, help="Column naming each area (province, district).")
@click.option("--estimate", required=True, help="Column of the estimates ranked (highest 1st).")
@click.option("--se", "se_column", required=True, help="Column of their standard errors.")
@click.option("--where", multiple=True, metavar="COLUMN=VALUE",
              help="Keep only rows where COLUMN is VALUE (repeatable), e.g. level=overall.")
@click.option("--level", type=float, default=0.95, show_default=True)
@click.option("--joint", is_flag=True,
              help="Intervals that hold together for the whole table (wider) instead of for "
                   "each area alone.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True)
@one_line_errors
def rank_command(data: str, area: str, estimate: str, se_column: str, where: tuple[str, ...],
                 level: float, joint: bool, fmt: str) -> None:
    """Rank areas by ESTIMATE, each with an interval for its true rank."""
    import numpy as np

    from analysis.ranking import rank_intervals

    conditions = []
    for item in where:
        column, sep, value = item.partition("=")
        if not sep or not column:
            raise ValueError(f"--where {item!r}: write COLUMN=VALUE")
        conditions.append((column, value))
    # a row without an area is the whole (the province's or the country's own estimate)
    rows = [r for r in _rows(data, [area, estimate, se_column], conditions) if r[area].strip()]
    if not rows:
        raise ValueError("no row to rank (check --where)")
    names = [r[area].strip() for r in rows]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"{dupes[0]!r} appears twice in {area}: one row per area "
                         "(use --where to keep one indicator)")
    values = np.array([_number(r[estimate], estimate, k + 2) for k, r in enumerate(rows)])
    ses = np.array([_number(r[se_column], se_column, k + 2) for k, r in enumerate(rows)])
    ranking = rank_intervals(names, values, ses, level, joint)
    out = [{"rank": a.rank, "rank_low": a.lower, "rank_high": a.upper, "area": a.area,
            "estimate": a.estimate, "se": a.se, "not_apart": list(a.not_apart)}
           for a in ranking.areas]
    head = {"method": ranking.method, "level": level, "joint": joint,
            "reading": "rank 1 is the highest estimate; rank_low..rank_high holds the true "
                       "rank with the stated level"}
    if fmt == "csv":
        out = [{**r, "not_apart": "; ".join(r["not_apart"])} for r in out]
    _emit(fmt, head, "areas", out, lambda: ranking_table(out, level, joint))
