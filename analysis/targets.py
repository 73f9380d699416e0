"""Target verdicts: is the estimate above or below a target such as 80 %?

The verdict reads the CI (above: lower bound ≥ target; below: upper bound < target) and the
one-sided p-value is computed on the CI's own scale with the same t_df, so that the verdict
is above/below exactly when p ≤ (1 − level)/2: a reader never sees them disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.ci import effective_n


@dataclass(frozen=True)
class Verdicts:
    verdict: np.ndarray  # 'above' / 'below' / 'inconclusive' (None where no CI)
    p_value: np.ndarray  # NaN where no CI


def verdicts(
    estimate: np.ndarray, se: np.ndarray, df: np.ndarray, n: np.ndarray, low: np.ndarray,
    high: np.ndarray, target: float, method: str, level: float,
    proportion: np.ndarray | bool = True, design_rows: int | None = None,
) -> Verdicts:
    """Verdict from the CI and the matching one-sided p-value per estimate."""
    from scipy.special import betainc, stdtr  # lazily, as in analysis/ci.py

    p, se, df, n = (np.asarray(x, dtype=float) for x in (estimate, se, df, n))
    prop = np.broadcast_to(np.asarray(proportion, dtype=bool), p.shape)
    up = p >= target
    with np.errstate(invalid="ignore", divide="ignore"):
        stat = (p - target) / se
        if method == "logit" and 0 < target < 1:
            lg = np.log(p / (1 - p)) - np.log(target / (1 - target))
            stat = np.where(prop, lg / (se / (p * (1 - p))), stat)
        elif method == "asin" and 0 <= target <= 1:
            th = np.arcsin(np.sqrt(p)) - np.arcsin(np.sqrt(target))
            stat = np.where(prop, th / (se / (2 * np.sqrt(p * (1 - p)))), stat)
        pv = stdtr(np.where(df > 0, df, 1.0), -np.abs(stat))
        if method == "beta":
            n_eff = effective_n(p, se, df, n, level, design_rows)
            x = n_eff * p
            above = np.where(x > 0, betainc(np.where(x > 0, x, 1), n_eff - x + 1, target), 1.0)
            rest = n_eff - x
            below = np.where(rest > 0, betainc(np.where(rest > 0, rest, 1), x + 1, 1 - target),
                             1.0)
            pv = np.where(prop, np.where(up, above, below), pv)
    ok = np.isfinite(low) & np.isfinite(high)
    pv = np.where(ok, pv, np.nan)
    verdict = np.where(low >= target, "above", np.where(high < target, "below", "inconclusive"))
    verdict = np.where(ok, verdict, None).astype(object)
    return Verdicts(verdict, pv)
