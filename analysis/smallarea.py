"""Estimates for districts and communes with two PSUs each: the Fay–Herriot model.

A commune's direct estimate from two PSUs has a CI too wide to use. The Fay–Herriot
area-level model borrows strength from auxiliary data every area has (the desk
evaluations' share satisfied, the on-time rate of dossiers): the direct estimate ``y_d`` is
the area's true value plus sampling error of known variance ``ψ_d`` (its SE², from the
survey), and the true value is ``x_dβ`` plus an area effect of variance ``A``. The EBLUP
shrinks each direct estimate toward the regression by ``B_d = ψ_d / (A + ψ_d)``: a noisy
area leans on the model, a precise one keeps its own estimate. It is a model, and is
labelled one wherever it is shown.

As R's ``sae`` package (``eblupFH``, ``mseFH``, method "REML"): Fisher scoring for ``A``
from ``median(ψ)`` with the same stopping rule (relative change below ``precision``),
truncated at 0; β by weighted least squares; the MSE by Prasad–Rao with Datta–Lahiri's
REML terms, ``g1 + g2 + 2·g3``. With the same start and rule the iterations are R's, so the
numbers are R's to rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FayHerriot:
    eblup: np.ndarray
    mse: np.ndarray
    shrinkage: np.ndarray  # B_d: the weight of the regression in each area's EBLUP
    refvar: float  # A, the variance of the area effects
    beta: np.ndarray
    beta_se: np.ndarray
    iterations: int
    converged: bool


def fay_herriot(direct: np.ndarray, vardir: np.ndarray, x: np.ndarray,
                max_iter: int = 100, precision: float = 1e-4) -> FayHerriot:
    """REML Fay–Herriot fit of ``direct`` (m,) with sampling variances ``vardir`` (m,) on the
    auxiliary matrix ``x`` (m × p, the intercept column included)."""
    y = np.asarray(direct, dtype=float)
    psi = np.asarray(vardir, dtype=float)
    m, p = x.shape
    if not (np.isfinite(y).all() and np.isfinite(psi).all() and np.isfinite(x).all()):
        raise ValueError("every area needs a direct estimate, its variance and every "
                         "auxiliary value (no empty cells)")
    if (psi <= 0).any():
        raise ValueError("a sampling variance must be positive (an area whose direct SE is "
                         "0 or unknown cannot enter the model)")
    if m <= p + 1:
        raise ValueError(f"{m} areas are too few for {p} coefficients and the area variance")
    if np.linalg.matrix_rank(x) < p:
        raise ValueError("the auxiliary columns are collinear: leave one out")
    estimate = [float(np.median(psi))]
    k, diff = 0, precision + 1
    while diff > precision and k < max_iter:
        k += 1
        vi = 1 / (estimate[-1] + psi)
        xtvi = (vi[:, None] * x).T
        q = np.linalg.inv(xtvi @ x)
        proj = np.diag(vi) - xtvi.T @ q @ xtvi
        py = proj @ y
        score = -0.5 * np.trace(proj) + 0.5 * float(py @ py)
        info = 0.5 * float(np.sum(proj * proj.T))
        estimate.append(estimate[-1] + score / info)
        diff = abs((estimate[-1] - estimate[-2]) / estimate[-2]) if estimate[-2] != 0 \
            else float("inf")
    converged = not (k >= max_iter and diff >= precision)
    a = max(estimate[-1], 0.0)
    vi = 1 / (a + psi)
    xtvi = (vi[:, None] * x).T
    q = np.linalg.inv(xtvi @ x)
    beta = q @ xtvi @ y
    fitted = x @ beta
    eblup = fitted + a * vi * (y - fitted)
    shrink = psi / (a + psi)
    var_a = 2 / float(np.sum(vi**2))
    g1 = psi * (1 - shrink)
    g2 = shrink**2 * np.einsum("dj,jk,dk->d", x, q, x)
    g3 = shrink**2 * var_a / (a + psi)
    return FayHerriot(eblup, g1 + g2 + 2 * g3, shrink, a, beta, np.sqrt(np.diag(q)), k,
                      converged)
