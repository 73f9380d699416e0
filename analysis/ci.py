"""Confidence intervals as R ``svyciprop`` / ``confint(..., df = degf(...))``, vectorised.

Every interval uses the t quantile with the estimate's own df. Where an interval does not
exist (df ≤ 0; p̂ = 0 or 1 for logit, asin and mean) it is NaN and ``note`` says why; ``beta``
at p̂ = 0 or 1 takes n_eff = n (NCHS data presentation standards) and still gives one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# scipy.special is imported where it is used: half a second that a command answering
# from the report cache (``sipas index --db`` asked again) never needs

CI_METHODS = ("logit", "mean", "asin", "beta")


@dataclass(frozen=True)
class Intervals:
    """Bounds (NaN where none) and a note per estimate ('' when nothing to say)."""

    low: np.ndarray
    high: np.ndarray
    note: np.ndarray


def t_quantile(df: np.ndarray, q: float) -> np.ndarray:
    """Student t quantile; NaN where df ≤ 0."""
    from scipy.special import stdtrit

    df = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(df > 0, stdtrit(np.where(df > 0, df, 1.0), q), np.nan)


def intervals(
    estimate: np.ndarray,
    se: np.ndarray,
    df: np.ndarray,
    n: np.ndarray,
    method: str = "logit",
    level: float = 0.95,
    proportion: np.ndarray | bool = True,
    design_rows: int | None = None,
) -> Intervals:
    """CIs for every estimate; ``proportion`` False means a plain mean (method 'mean').

    ``design_rows``: the rows of a calibrated design, which R's ``beta`` interval uses in
    place of the domain's (see :func:`effective_n`).
    """
    if method not in CI_METHODS:
        raise ValueError(f"--ci must be one of {', '.join(CI_METHODS)}")
    if not 0 < level < 1:
        raise ValueError("--level must be between 0 and 1")
    p, se, df, n = (np.asarray(x, dtype=float) for x in (estimate, se, df, n))
    prop = np.broadcast_to(np.asarray(proportion, dtype=bool), p.shape)
    alpha = 1 - level
    t = t_quantile(df, 1 - alpha / 2)
    low, high = np.full(p.shape, np.nan), np.full(p.shape, np.nan)
    note = np.full(p.shape, "", dtype=object)
    edge = prop & ((p == 0) | (p == 1))
    # exp() may overflow far in the tails: 1 / (1 + inf) is the 0 the bound should be
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        m_low, m_high = p - t * se, p + t * se
        use = ~prop | (method == "mean")
        low = np.where(use, m_low, low)
        high = np.where(use, m_high, high)
        if method == "logit":
            lg, s = np.log(p / (1 - p)), se / (p * (1 - p))
            low = np.where(prop, 1 / (1 + np.exp(-(lg - t * s))), low)
            high = np.where(prop, 1 / (1 + np.exp(-(lg + t * s))), high)
        elif method == "asin":
            th, s = np.arcsin(np.sqrt(p)), se / (2 * np.sqrt(p * (1 - p)))
            low = np.where(prop, np.sin(np.clip(th - t * s, 0, np.pi / 2)) ** 2, low)
            high = np.where(prop, np.sin(np.clip(th + t * s, 0, np.pi / 2)) ** 2, high)
        elif method == "beta":
            bl, bh = beta_bounds(p, se, df, n, level, design_rows)
            low, high = np.where(prop, bl, low), np.where(prop, bh, high)
    if method != "beta":
        note[edge] = f"p̂ = 0 or 1: no {method} interval"
        low[edge], high[edge] = np.nan, np.nan
    bad_df = ~(df > 0)
    note[bad_df] = "df ≤ 0 (fewer than two PSUs in a stratum with answers): no CI"
    low[bad_df], high[bad_df] = np.nan, np.nan
    no_se = ~np.isfinite(se) & ~bad_df & np.isfinite(p)
    note[no_se] = ("variance not available: the lonely-PSU policy 'average' has nothing to "
                   "average over at some stage (R gives NaN too)")
    note[np.isnan(p)] = "no valid answers"
    return Intervals(low, high, note)


def effective_n(p: np.ndarray, se: np.ndarray, df: np.ndarray, n: np.ndarray,
                level: float, design_rows: int | None = None) -> np.ndarray:
    """R's Korn–Graubard n_eff, with n_eff = n at p̂ = 0 or 1, scaled by (t_{m-1}/t_df)².

    m is R's ``nrow(design)``: the rows of the (sub)design, which is the domain's valid
    answers, except on a calibrated design, whose subsets keep every row (zero weights):
    there m is ``design_rows``, all rows of the design, as in R (svyciprop's beta).
    """
    alpha = 1 - level
    m = n if design_rows is None else np.full_like(np.asarray(n, dtype=float), design_rows)
    with np.errstate(invalid="ignore", divide="ignore"):
        n_eff = np.where((p == 0) | (p == 1), n, p * (1 - p) / se**2)
        return n_eff * (t_quantile(m - 1, alpha / 2) / t_quantile(df, alpha / 2)) ** 2


def beta_bounds(p: np.ndarray, se: np.ndarray, df: np.ndarray, n: np.ndarray,
                level: float, design_rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Korn–Graubard bounds as R: qbeta(α/2, x, n−x+1), qbeta(1−α/2, x+1, n−x), x = n_eff·p."""
    from scipy.special import betaincinv

    alpha = 1 - level
    n_eff = effective_n(p, se, df, n, level, design_rows)
    x = n_eff * p
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(x > 0, betaincinv(np.where(x > 0, x, 1), n_eff - x + 1, alpha / 2), 0.0)
        rest = n_eff - x
        high = np.where(rest > 0, betaincinv(x + 1, np.where(rest > 0, rest, 1), 1 - alpha / 2),
                        1.0)
    bad = ~np.isfinite(n_eff)
    low[bad], high[bad] = np.nan, np.nan
    return low, high
