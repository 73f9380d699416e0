"""Ranks of areas (provinces, departments, districts) by an index, each with an interval.

A league table that prints "9th" for a province whose index cannot be told apart from the
4th's or the 15th's misleads. Each area here gets the rank of its estimate and a 95%
interval for its true rank, built from the estimates' sampling distribution by the method of
Klein, Wright and Wieczorek (2020, "A joint confidence region for an overall ranking of
populations", JRSS C 69:589–606):

- For every pair, a confidence interval of the difference ``θ_j − θ_k`` (SE from both
  variances, minus twice their covariance when the two estimates share a sample).
- Area ``k`` is surely below every ``j`` whose interval lies above 0 and surely above every
  ``j`` whose interval lies below 0; its rank interval is
  ``[1 + #surely above it, K − #surely below it]``.
- The pairwise intervals use a Bonferroni level: ``α / (K − 1)`` for intervals that each
  hold with 95% (``joint=False``, one area looked at), or ``α / (K(K − 1)/2)`` for intervals
  that all hold together with 95% (``joint=True``, the whole table read at once).

Why this and not percentiles of ranks simulated around the estimates (the usual "bootstrap
rank interval"): simulated around the estimates, close areas look spread apart, and such
intervals fall short of their level exactly when it matters, for areas of nearly equal true
value (benchmarks/sim_ranking.py measures both). Bonferroni makes these conservative, never
short: the simulation with known truth shows coverage at or above 95%. The areas whose
difference from ``k`` is not clear at that level are the ones "that cannot be told apart"
from it, said in words beside the table.

Rank 1 is the highest estimate (the most satisfied). Estimates are treated as normal with
the given SEs, as every CI the app shows is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AreaRank:
    area: str
    estimate: float
    se: float
    rank: int  # of the estimate (ties share the best rank)
    lower: int  # best rank the area may truly have
    upper: int  # worst rank the area may truly have
    not_apart: tuple[str, ...]  # areas that cannot be told apart from this one


@dataclass(frozen=True)
class Ranking:
    areas: tuple[AreaRank, ...]  # in order of rank
    level: float
    joint: bool
    method: str = "Klein, Wright & Wieczorek (2020), Bonferroni"


def rank_intervals(names: list[str], estimates: np.ndarray, ses: np.ndarray,
                   level: float = 0.95, joint: bool = False,
                   covariance: np.ndarray | None = None) -> Ranking:
    """Rank ``estimates`` (highest first) with an interval for each area's true rank.

    ``covariance``: the estimates' covariance matrix when they are not independent (areas
    of one sample); by default areas are independent samples (provinces, strata), so only
    the SEs count.
    """
    theta = np.asarray(estimates, dtype=float)
    se = np.asarray(ses, dtype=float)
    k = theta.size
    if len(names) != k or se.size != k:
        raise ValueError("every area needs one name, one estimate and one SE")
    if len(set(names)) != k:
        raise ValueError("two areas have the same name")
    if k < 2:
        raise ValueError("ranking needs at least two areas")
    if not (np.isfinite(theta).all() and np.isfinite(se).all()) or (se < 0).any():
        raise ValueError("every area needs a finite estimate and a non-negative SE (an area "
                         "without an SE cannot be ranked with an interval)")
    if not 0 < level < 1:
        raise ValueError("the level is a share between 0 and 1, e.g. 0.95")
    cov = np.diag(se**2) if covariance is None else np.asarray(covariance, dtype=float)
    if cov.shape != (k, k):
        raise ValueError("the covariance matrix must be K × K")
    comparisons = k * (k - 1) / 2 if joint else k - 1
    from scipy.special import ndtri  # the normal quantile; scipy.stats takes 0.9 s to import

    z = float(ndtri(1 - (1 - level) / (2 * comparisons)))
    diff = theta[:, None] - theta[None, :]  # θ_i − θ_j
    var = np.diag(cov)[:, None] + np.diag(cov)[None, :] - 2 * cov
    half = z * np.sqrt(np.maximum(var, 0.0))
    above = diff - half > 0  # i surely above j
    np.fill_diagonal(above, False)
    surely_above_me = above.sum(axis=0)  # how many are surely above each column's area
    surely_below_me = above.sum(axis=1)
    order = np.argsort(-theta, kind="stable")
    point = 1 + (theta[None, :] > theta[:, None]).sum(axis=1)
    rows = []
    for i in order:
        apart = above[i] | above[:, i]
        apart[i] = True
        rows.append(AreaRank(
            names[i], float(theta[i]), float(se[i]), int(point[i]),
            int(1 + surely_above_me[i]), int(k - surely_below_me[i]),
            tuple(names[j] for j in order if not apart[j])))
    return Ranking(tuple(rows), level, joint)


def rank_coverage(truth: np.ndarray, ses: np.ndarray, reps: int, level: float = 0.95,
                  joint: bool = False, seed: int = 1) -> tuple[np.ndarray, float]:
    """Coverage by simulation with known truth: estimates drawn around ``truth`` with
    ``ses``; returns each area's share of intervals holding its true rank, and the share of
    draws in which every interval held (the joint coverage)."""
    rng = np.random.default_rng(seed)
    truth = np.asarray(truth, dtype=float)
    ses = np.asarray(ses, dtype=float)
    k = truth.size
    true_rank = 1 + (truth[None, :] > truth[:, None]).sum(axis=1)
    names = [str(i) for i in range(k)]
    held = np.zeros(k)
    all_held = 0
    for _ in range(reps):
        drawn = truth + ses * rng.standard_normal(k)
        result = rank_intervals(names, drawn, ses, level, joint)
        ok = np.zeros(k, dtype=bool)
        for row in result.areas:
            i = int(row.area)
            ok[i] = row.lower <= true_rank[i] <= row.upper
        held += ok
        all_held += bool(ok.all())
    return held / reps, all_held / reps
