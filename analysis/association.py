"""Does satisfaction depend on the district, the agency level, the kind of procedure? The
Rao–Scott test of association in a two-way table, as R's ``svychisq(~a + b, design)``.

The Pearson X² of the weighted table (scaled to the design's row count, R's
``svytable(Ntotal = N)``) is divided by the mean generalised design effect, and referred to
an F distribution with ``d₀`` and ``d₀·ν`` degrees of freedom (R's default ``statistic =
"F"``: Rao & Scott's second-order correction). ``Δ`` is built, as R does, from the
design-based covariance of the cell shares projected onto the interaction contrasts; ``ν``
is the design's PSUs minus strata.

The covariance of two cell shares is read off variances, ``Cov(a, b) = (Var(a + b) − Var(a)
− Var(b)) / 2``, so it comes from the same linearised variance code as every other estimate
(multistage, fpc, lonely PSUs, calibration residuals): nothing is approximated twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.codes import Categorical
from analysis.design import Design
from analysis.variance import influence_totals, totals_variance


@dataclass(frozen=True)
class Association:
    rows: tuple[str, ...]
    cols: tuple[str, ...]
    shares: list[list[float]]  # weighted share of each column's rows in each row category
    n: int
    chisq: float  # Pearson X² of the weighted table scaled to the design's rows
    f: float | None
    ndf: float | None
    ddf: float | None
    p_value: float | None
    design_effect: float | None  # mean generalised design effect (trace of Δ / its size)
    note: str = ""


def _covariance(design: Design, z: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Design-based covariance matrix of the totals of the columns of row influences ``z``."""
    zu = influence_totals(design, z)
    k = zu.shape[1]
    i, j = np.triu_indices(k, 1)
    cols = np.concatenate([zu, zu[:, i] + zu[:, j]], axis=1)
    var = totals_variance(design, cols, present).variance[0]
    cov = np.diag(var[:k])
    pair = (var[k:] - var[:k][i] - var[:k][j]) / 2
    cov[i, j] = pair
    cov[j, i] = pair
    return cov


def rao_scott(design: Design, a: Categorical, b: Categorical) -> Association:
    """Rao–Scott F test of independence of ``a`` (table rows) and ``b`` (columns)."""
    from scipy.special import fdtrc

    nr, nc = len(a.labels), len(b.labels)
    if nr < 2 or nc < 2:
        raise ValueError("a test of association needs at least two categories on each side")
    complete = (a.codes >= 0) & (b.codes >= 0)
    if not complete.any():
        raise ValueError("no row has both answers")
    cell = np.where(complete, a.codes + nr * b.codes, -1)  # rows vary fastest, as R
    k = nr * nc
    w = np.where(complete, design.weights, 0.0)
    total = w.sum()
    counts = np.bincount(cell[complete], weights=w[complete], minlength=k)
    share = counts / total
    # influence of each cell share (svymean of the cell indicators on the complete rows)
    z = np.zeros((design.n, k))
    rows = np.flatnonzero(complete)
    z[rows] = -share[None, :] * w[rows, None] / total
    z[rows, cell[rows]] += w[rows] / total
    cov = _covariance(design, z, complete)
    n_all = design.n  # R: nrow of the model matrix, every row of the design
    nu = design.stages[0].n_units - design.stages[0].n_parents  # R: every row's PSU, stratum
    x1 = np.column_stack([np.ones(k)]
                         + [(np.arange(k) % nr == r).astype(float) for r in range(1, nr)]
                         + [(np.arange(k) // nr == c).astype(float) for c in range(1, nc)])
    inter = np.column_stack([((np.arange(k) % nr == r) & (np.arange(k) // nr == c))
                             .astype(float) for c in range(1, nc) for r in range(1, nr)])
    coef, *_ = np.linalg.lstsq(x1, inter, rcond=None)
    cmat = inter - x1 @ coef
    inv_d = np.diag(np.where(share == 0, 0.0, 1 / np.where(share == 0, 1, share)))
    denom = cmat.T @ (inv_d / n_all) @ cmat
    numr = cmat.T @ inv_d @ cov @ inv_d @ cmat
    delta = np.linalg.solve(denom, numr)
    table = (counts * n_all / total).reshape(nc, nr).T  # svytable(Ntotal = N)
    expected = np.outer(table.sum(1), table.sum(0)) / table.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        chisq = float(np.nansum((table - expected) ** 2 / expected))
    col_totals = table.sum(0)
    shares = [[float(table[r, c] / col_totals[c]) if col_totals[c] > 0 else float("nan")
               for c in range(nc)] for r in range(nr)]
    trace = float(np.trace(delta))
    n = int((complete & (design.weights > 0)).sum())
    if not (np.isfinite(trace) and trace > 0) or nu <= 0:
        return Association(a.labels, b.labels, shares, n, chisq, None, None, None, None, None,
                           "no design-based variance (df ≤ 0 or no variation)")
    d0 = trace**2 / float(np.trace(delta @ delta))
    f = chisq / trace
    return Association(a.labels, b.labels, shares, n, chisq, f, d0, d0 * nu,
                       float(fdtrc(d0, d0 * nu, f)), trace / delta.shape[0])
