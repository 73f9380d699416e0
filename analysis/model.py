"""Does satisfaction depend on the procedure, the agency level, age, sex? Design-based
logistic regression for "satisfied", as R's ``svyglm(y ~ x, design, family = quasibinomial)``.

The coefficients are the weighted maximum-likelihood (pseudo-likelihood) estimates, found by
iteratively reweighted least squares as ``glm`` does. Their variance is the sandwich R's
``svy.varcoef`` computes: each row's score ``x·w·(y − μ)`` times the inverse of the weighted
information ``(XᵀWX)⁻¹`` is that row's influence on the coefficients, and its linearised
variance goes through the same multistage, fpc, lonely-PSU and calibration code as every
other estimate here. Rows with no valid outcome or a missing predictor leave the model (R's
``na.omit``: a subset of the design, so strata and PSUs are still the design's). Tests and
intervals use t with R's residual df: the subset's ``degf`` + 1 − the number of
coefficients; odds ratios are ``exp`` of a coefficient and of its interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis.design import Design
from analysis.variance import influence_totals, totals_variance


@dataclass(frozen=True)
class Coefficient:
    term: str
    estimate: float
    se: float | None
    t: float | None
    p_value: float | None
    ci_low: float | None
    ci_high: float | None
    odds_ratio: float
    or_low: float | None
    or_high: float | None


@dataclass(frozen=True)
class Fit:
    coefficients: list[Coefficient]
    n: int
    df: int
    iterations: int


def _irls(x: np.ndarray, y: np.ndarray, w: np.ndarray, max_iter: int = 50
          ) -> tuple[np.ndarray, np.ndarray, int]:
    """Weighted logistic fit: coefficients, fitted μ and the iterations taken."""
    mu = (w * y + 0.5) / (w + 1)  # glm's binomial start
    eta = np.log(mu / (1 - mu))
    beta = np.zeros(x.shape[1])
    old = np.inf
    for it in range(1, max_iter + 1):
        var = mu * (1 - mu)
        z = eta + (y - mu) / var
        ww = w * var
        xtw = x.T * ww
        try:
            beta = np.linalg.solve(xtw @ x, xtw @ z)
        except np.linalg.LinAlgError:
            raise ValueError("the predictors are collinear (one is a combination of others, "
                             "or a category holds every row): leave one out") from None
        eta = x @ beta
        mu = 1 / (1 + np.exp(-eta))
        with np.errstate(divide="ignore", invalid="ignore"):
            dev = -2 * float(np.sum(w * (y * np.log(np.where(y > 0, mu, 1))
                                         + (1 - y) * np.log(np.where(y < 1, 1 - mu, 1)))))
        if abs(dev - old) / (abs(dev) + 0.1) < 1e-12:
            return beta, mu, it
        old = dev
    raise ValueError(f"the model did not converge in {max_iter} iterations (a category "
                     "where everyone or no one is satisfied separates the outcome)")


def logistic(design: Design, outcome: np.ndarray, predictors: np.ndarray,
             terms: Sequence[str], level: float = 0.95) -> Fit:
    """Fit ``outcome`` (1 satisfied, 0 not, NaN not asked) on ``predictors`` (n × p, the
    intercept column included, NaN where missing)."""
    from scipy.special import stdtr

    from analysis.ci import t_quantile

    rows = ~np.isnan(outcome) & ~np.isnan(predictors).any(axis=1)
    if not rows.any():
        raise ValueError("no row has a valid outcome and every predictor")
    w_all = design.weights / design.weights.mean()
    x, y, w = predictors[rows], outcome[rows], w_all[rows]
    if np.linalg.matrix_rank(x * np.sqrt(w)[:, None]) < x.shape[1]:
        raise ValueError("the predictors are collinear (one is a combination of others, or "
                         "a category has no rows): leave one out")
    beta, mu, iterations = _irls(x, y, w)
    info = (x.T * (w * mu * (1 - mu))) @ x
    inverse = np.linalg.inv(info)
    influence = np.zeros((design.n, x.shape[1]))
    influence[rows] = (x * (w * (y - mu))[:, None]) @ inverse
    res = totals_variance(design, influence_totals(design, influence), rows)
    df = int(res.df[0, 0]) + 1 - x.shape[1]
    t_crit = float(t_quantile(np.array([df]), 1 - (1 - level) / 2)[0]) if df > 0 else np.nan
    out = []
    for j, term in enumerate(terms):
        se = float(np.sqrt(res.variance[0, j]))
        ok = np.isfinite(se) and se > 0
        t = beta[j] / se if ok else None
        p = float(2 * stdtr(df, -abs(t))) if t is not None and df > 0 else None
        low = beta[j] - t_crit * se if ok and df > 0 else None
        high = beta[j] + t_crit * se if ok and df > 0 else None
        out.append(Coefficient(term, float(beta[j]), se if np.isfinite(se) else None,
                               None if t is None else float(t), p, low, high,
                               float(np.exp(beta[j])),
                               None if low is None else float(np.exp(low)),
                               None if high is None else float(np.exp(high))))
    return Fit(out, int(rows.sum()), df, iterations)
