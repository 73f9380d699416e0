"""Render estimates for people (aligned table in percent, Vietnamese + English) or programs."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence

from analysis.estimate import Estimate

VERDICT_VI = {"above": "đạt / above", "below": "chưa đạt / below",
              "inconclusive": "chưa kết luận / inconclusive"}


def as_dict(row: Estimate, kind: str) -> dict:
    """One estimate as the JSON object of the CLI contract."""
    out: dict = {kind: row.name}
    if kind == "indicator":
        out["level"] = row.level
    out.update(domain=row.domain, n=row.n, estimate=row.estimate, se=row.se,
               ci_low=row.ci_low, ci_high=row.ci_high, df=row.df, deff=row.deff,
               note=row.note or None)
    if row.target is not None:
        out.update(target=row.target, verdict=row.verdict, p_value=row.p_value)
    out.update(row.extra)
    # a number that is not finite has no value to show (JSON has no NaN; CSV would say nan)
    return {k: None if isinstance(v, float) and not math.isfinite(v) else v
            for k, v in out.items()}


def render(rows: Sequence[Estimate], design: dict, fmt: str, kind: str, level: float) -> str:
    if fmt == "json":
        body = {"design": design, "estimates": [as_dict(r, kind) for r in rows]}
        return json.dumps(body, ensure_ascii=False, indent=1, allow_nan=False)
    if fmt == "csv":
        return _csv([as_dict(r, kind) for r in rows])
    return _table(rows, kind, level)


def _csv(dicts: list[dict]) -> str:
    fields: list[str] = []
    for d in dicts:
        fields += [k for k in d if k not in fields]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for d in dicts:
        if "domain" in d:  # rows of estimates; a model's coefficients have none
            d = dict(d, domain=";".join(f"{k}={v}" for k, v in (d["domain"] or {}).items()))
        writer.writerow({k: "" if v is None else v for k, v in d.items()})
    return buf.getvalue().rstrip("\n")


def _fmt(x: float | None, pct: bool, digits: int = 1) -> str:
    if x is None:
        return "–"
    return f"{100 * x:.{digits}f}" if pct else f"{x:.{digits + 1}f}"


def _aligned(head: list[str], body: list[list[str]], right: set[int] | range,
             rule: bool = True) -> list[str]:
    """Lines of an aligned text table: columns in ``right`` right-aligned (numbers), the
    others left; a line of dashes under the head when ``rule``."""
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h)
              for i, h in enumerate(head)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    rules = ["  ".join("-" * w for w in widths)] if rule else []
    return [line(head), *rules, *(line(b) for b in body)]


def _table(rows: Sequence[Estimate], kind: str, level: float) -> str:
    head = ["Chỉ tiêu / Indicator" if kind == "indicator" else "Biến / Variable",
            "Miền / Domain", "n", "Ước lượng / Estimate", "SE",
            f"KTC / CI {100 * level:g}%", "df", "deff"]
    has_target = any(r.target is not None for r in rows)
    if has_target:
        head += ["Mục tiêu / Target", "p"]
    head.append("Ghi chú / Note")
    body = []
    for r in rows:
        pct = r.proportion
        unit = " %" if pct and r.estimate is not None else ""
        name = r.name if not r.level or r.level == "criterion" else f"[{r.level}] {r.name}"
        ci = ("–" if r.ci_low is None else
              f"{_fmt(r.ci_low, pct)} – {_fmt(r.ci_high, pct)}")
        line = [name, ", ".join(f"{k}={v}" for k, v in r.domain.items()) or "(toàn bộ / all)",
                str(r.n), _fmt(r.estimate, pct) + unit, _fmt(r.se, pct, 2), ci, str(r.df),
                "–" if r.deff is None else f"{r.deff:.2f}"]
        if has_target:
            line += [VERDICT_VI.get(r.verdict or "", "–"),
                     "–" if r.p_value is None else f"{r.p_value:.3g}"]
        line.append(r.note)
        body.append(line)
    return "\n".join(_aligned(head, body, {2, 3, 4, 6, 7}))


VERDICT_DIFF_VI = {"higher": "cao hơn / higher", "lower": "thấp hơn / lower",
                   "cannot be told apart": "không phân biệt được / cannot be told apart"}


def render_differences(rows: Sequence, design: dict, fmt: str, level: float,
                       proportion: bool) -> str:
    """Differences (``analysis.compare.Difference``) as JSON, CSV or an aligned table."""
    from dataclasses import asdict

    dicts = [asdict(r) for r in rows]
    if fmt == "json":
        return json.dumps({"design": design, "differences": dicts}, ensure_ascii=False,
                          indent=1, allow_nan=False)
    if fmt == "csv":
        return _csv(dicts)
    head = ["Biến / Variable", "So sánh / Comparison", "Ước lượng 1 / Estimate 1",
            "Ước lượng 2 / Estimate 2", "Chênh lệch / Difference", "SE",
            f"KTC / CI {100 * level:g}%", "df", "p", "Kết luận / Verdict"]
    body = []
    for r in rows:
        ci = "–" if r.ci_low is None else (f"{_fmt(r.ci_low, proportion)} – "
                                           f"{_fmt(r.ci_high, proportion)}")
        body.append([r.name, f"{r.first} − {r.second}", _fmt(r.estimate_first, proportion),
                     _fmt(r.estimate_second, proportion), _fmt(r.difference, proportion),
                     _fmt(r.se, proportion, 2), ci, str(r.df),
                     "–" if r.p_value is None else f"{r.p_value:.3g}",
                     VERDICT_DIFF_VI.get(r.verdict or "", r.note or "–")])
    return "\n".join(_aligned(head, body, {2, 3, 4, 5, 7, 8}))


def rows_csv(dicts: list[dict]) -> str:
    """Plain dictionaries as CSV (domains as ``column=value``), the same rules as estimates."""
    return _csv(dicts)


def quantile_table(rows: Sequence, level: float) -> str:
    """Quantiles (``analysis.quantiles.Quantile``) as an aligned table."""
    head = ["Biến / Variable", "Miền / Domain", "p", "n", "Phân vị / Quantile",
            f"KTC / CI {100 * level:g}%", "SE", "df", "Ghi chú / Note"]
    body = []
    for r in rows:
        def num(x: float | None) -> str:
            return "–" if x is None else f"{x:g}"
        ci = "–" if r.ci_low is None or r.ci_high is None else f"{num(r.ci_low)} – {num(r.ci_high)}"
        body.append([r.name, ", ".join(f"{k}={v}" for k, v in r.domain.items()) or
                     "(toàn bộ / all)", f"{r.p:g}", str(r.n), num(r.quantile), ci,
                     "–" if r.se is None else f"{r.se:.3g}", str(r.df), r.note])
    return "\n".join(_aligned(head, body, {2, 3, 4, 6, 7}))


def model_table(fit, level: float) -> str:  # type: ignore[no-untyped-def]
    """Coefficients and odds ratios (``analysis.model.Fit``) as an aligned table."""
    def num(x: float | None, digits: int = 3) -> str:
        return "–" if x is None else f"{x:.{digits}f}"

    head = ["Hệ số / Term", "Ước lượng / Estimate", "SE", "t", "p",
            f"Tỷ số chênh / Odds ratio (KTC / CI {100 * level:g}%)"]
    body = [[c.term, num(c.estimate), num(c.se), num(c.t, 2),
             "–" if c.p_value is None else f"{c.p_value:.3g}",
             f"{c.odds_ratio:.3f}" + ("" if c.or_low is None else
                                      f" ({c.or_low:.3f} – {c.or_high:.3f})")]
            for c in fit.coefficients]
    return "\n".join([*_aligned(head, body, range(1, 5)), f"n = {fit.n}, df = {fit.df}"])


def association_text(result, variable: str, by: str, fmt: str) -> str:  # type: ignore[no-untyped-def]
    """The Rao–Scott test as one CSV line or a short table of shares and the verdict."""
    fields = {"variable": variable, "by": by, "n": result.n, "chisq": result.chisq,
              "f": result.f, "ndf": result.ndf, "ddf": result.ddf, "p_value": result.p_value,
              "design_effect": result.design_effect, "note": result.note or None}
    if fmt == "csv":
        return _csv([fields])
    head = [f"{variable} \\ {by}", *result.cols]
    body = [[r, *(f"{100 * s:.1f}%" if s == s else "–" for s in row)]
            for r, row in zip(result.rows, result.shares, strict=True)]
    lines = _aligned(head, body, range(1, len(head)), rule=False)
    if result.f is None:
        verdict = result.note
    else:
        verdict = (f"Rao–Scott F = {result.f:.3f} (df {result.ndf:.2f}, {result.ddf:.2f}), "
                   f"p = {result.p_value:.3g}: "
                   + ("có liên quan / associated" if result.p_value < 0.05 else
                      "không thấy liên quan / no association shown"))
    return "\n".join([*lines, "", verdict])


def smallarea_table(rows: list[dict], model: dict) -> str:
    """Direct and model (Fay–Herriot) estimates side by side, the model labelled as one."""
    head = ["Khu vực / Area", "Trực tiếp / Direct (KTC / CI)",
            "Mô hình / Model Fay–Herriot (KTC / CI)", "Trọng số mô hình / Model weight"]
    body = [[r["area"], f"{r['direct']:.3f} ({r['direct_low']:.3f} – {r['direct_high']:.3f})",
             f"{r['model_estimate']:.3f} ({r['model_low']:.3f} – {r['model_high']:.3f})",
             f"{r['weight_of_model']:.2f}"] for r in rows]
    foot = (f"Mô hình / model: A = {model['area_variance']:.4g} (phương sai khu vực / "
            f"area variance), {model['iterations']} vòng lặp / iterations; ước lượng mô hình "
            "là dự báo từ mô hình, không phải ước lượng trực tiếp / model estimates are "
            "model predictions, not direct estimates")
    return "\n".join([*_aligned(head, body, set()), foot])
