"""Medians and other quantiles of numeric answers with their CIs, as R's ``svyquantile``.

R (survey ≥ 4.1) by default: the quantile is ``qrule = "math"``, the inverse of the weighted
distribution function (the smallest value whose weighted share at or below it reaches
``p``; R's ``qs``/``qrule_math``, including its rule when ``p`` falls below the first
value's share: the second value); the interval is Woodruff's (``interval.type = "mean"``):
the share of the sample at or below the estimated quantile, ``svymean(x <= q)``, gets its
design-based CI ``p̂ ± t_df · SE`` and each bound is mapped back through the same rule. The
SE R reports is the interval's width over ``2 · t_df``. A domain is R's ``svyby`` subset:
its own rows, its own df (``degf`` of the subset with an answer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis.ci import t_quantile
from analysis.design import Design
from analysis.engine import NumericIndicator, run


@dataclass(frozen=True)
class Quantile:
    name: str
    domain: dict[str, str]
    p: float
    n: int
    quantile: float | None
    ci_low: float | None
    ci_high: float | None
    se: float | None
    df: int
    note: str = ""


def quantile_rule(x: np.ndarray, w: np.ndarray, p: float) -> float:
    """R's ``qrule_math``: rows of weight 0 left out; NaN when nothing is left."""
    keep = w != 0
    x, w = x[keep], w[keep]
    if x.size == 0:
        return float("nan")
    order = np.argsort(x, kind="stable")
    x, cumw = x[order], np.cumsum(w[order])
    total = cumw[-1]
    below = np.flatnonzero(cumw <= p * total)
    pos = int(below[-1]) if below.size else 0  # R's last(): the first row when none is
    up = pos if pos == x.size - 1 else pos + 1
    return float(x[pos]) if p - cumw[pos] / total == 0 else float(x[up])


def quantiles(design: Design, values: np.ndarray, probs: Sequence[float],
              domain: np.ndarray | None = None, labels: Sequence[str] = (),
              column: str | None = None, name: str = "x", level: float = 0.95
              ) -> list[Quantile]:
    """Each quantile in ``probs`` for the whole sample, then for each domain code."""
    for p in probs:
        if not 0 < p < 1:
            raise ValueError(f"--quantiles must be between 0 and 1 (got {p:g})")
    answered = ~np.isnan(values)
    groups: list[tuple[dict[str, str], np.ndarray]] = [({}, np.ones(design.n, dtype=bool))]
    if domain is not None and column is not None:
        groups += [({column: lab}, domain == k) for k, lab in enumerate(labels)]
    out = []
    alpha = 1 - level
    for dom, inside in groups:
        rows = inside & answered
        w = np.where(rows, design.weights, 0.0)
        x = np.where(rows, values, 0.0)
        n = int((rows & (design.weights > 0)).sum())
        for p in probs:
            q = quantile_rule(x[rows], w[rows], p)
            if not np.isfinite(q):
                out.append(Quantile(name, dom, p, n, None, None, None, None, 0,
                                    "no valid answers"))
                continue
            below = NumericIndicator(name, (x <= q).astype(float), rows)
            res = run(design, [below], np.where(inside, 0, -1), 1)
            share, se, df = float(res.estimate[1, 0]), float(res.se[1, 0]), int(res.df[1, 0])
            if df <= 0 or not np.isfinite(se):
                out.append(Quantile(name, dom, p, n, q, None, None, None, df,
                                    "df ≤ 0: no CI" if df <= 0 else "variance not available"))
                continue
            t = float(t_quantile(np.array([df]), 1 - alpha / 2)[0])
            low_p, high_p = share - t * se, share + t * se
            low = quantile_rule(x[rows], w[rows], low_p) if low_p >= 0 else float("nan")
            high = quantile_rule(x[rows], w[rows], high_p) if high_p <= 1 else float("nan")
            ok = np.isfinite(low) and np.isfinite(high)
            out.append(Quantile(
                name, dom, p, n, q, low if np.isfinite(low) else None,
                high if np.isfinite(high) else None,
                (high - low) / (2 * t) if ok else None, df,
                "" if ok else "the interval reaches past the smallest or largest answer"))
    return out
