"""Calibration records that make the variance aware of post-stratification and raking.

A calibrated design remembers, per calibration step, which cell every row fell in and the
weights before and after the step.  Before computing the stratified cluster variance the
engine calls ``x = cal.residualize(x)`` for every step in order, which is exactly what R's
``survey:::svyrecvar`` does with ``design$postStrata`` (survey 4.1):

* a ``postStratify`` step (:class:`PostStratification`)::

      psmeans <- rowsum(x * oldw / psw, cell) / by(oldw, cell, sum)
      x <- x - psmeans[cell, ] * psw

  with ``psw`` set to 1 where both old and new weights are 0;
* a ``rake`` result (:class:`Raking`), ten fixed sweeps over its margins::

      for (iterations in 1:10) for (margin in psvar)
          x <- x - psw * apply(x / psw, 2, ave, margin)

  where each margin is the post-stratification of R's *last* raking pass, ``psw`` its new
  weights, and ``ave`` an unweighted within-cell mean.

Rows of weight 0 are kept as R keeps them.  In a post-stratification R gives them
``psw = 1`` (so they receive a residual) and so do we.  In a raking R divides 0 by 0 and
the SE becomes NaN; we leave such rows out of the within-cell means instead, which gives
R's SE for the design built without them (pinned against R in the tests).

Residualising removes the between-cell part of the influence values, which the calibration
has fixed at known population totals; that is why a calibrated SE is usually smaller.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse


class CellMismatchError(ValueError):
    """A calibration cell present on one side only (sample vs population totals).

    ``kind`` is ``"sample"`` (sampled cell without a positive total), ``"population"``
    (total for a cell with no sample) or ``"zero"`` (cell whose rows all weigh 0); ``label``
    the cell; ``margin`` the raking margin index, if any.  The CSV readers catch it to name
    the file and line.
    """

    def __init__(self, label: Hashable, kind: str, message: str, margin: int | None = None):
        super().__init__(message)
        self.label, self.kind, self.margin = label, kind, margin


def factorize(cells: Sequence[Hashable] | np.ndarray) -> tuple[np.ndarray, list[Hashable]]:
    """Integer code per row and the distinct labels.

    A plain numeric or string array goes through ``np.unique`` (fast); anything else
    (objects, tuples of a cell's variables, lists) through a dictionary, because
    ``np.unique`` would split tuples into columns and cannot sort mixed types.
    """
    if isinstance(cells, np.ndarray) and cells.ndim == 1 and cells.dtype != object:
        uniques, codes = np.unique(cells, return_inverse=True)
        return codes.reshape(-1).astype(np.int64), uniques.tolist()
    index: dict[Hashable, int] = {}
    codes = np.empty(len(cells), dtype=np.int64)
    for i, label in enumerate(cells.tolist() if isinstance(cells, np.ndarray) else cells):
        codes[i] = index.setdefault(label, len(index))
    return codes, list(index)


def cell_indicator(codes: np.ndarray, n_cells: int) -> sparse.csr_matrix:
    """Sparse (cells × rows) 0/1 matrix, so that ``M @ x`` gives within-cell column sums."""
    n = len(codes)
    return sparse.csr_matrix(
        (np.ones(n), (codes, np.arange(n))), shape=(n_cells, n), dtype=np.float64
    )


def _as_matrix(x: np.ndarray) -> tuple[np.ndarray, bool]:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        return arr[:, None], True
    if arr.ndim != 2:
        raise ValueError(f"influence values must be a vector or an (n, k) matrix, got {arr.ndim}-D")
    return arr, False


def _check_rows(x: np.ndarray, n: int) -> None:
    if x.shape[0] != n:
        raise ValueError(
            f"influence values have {x.shape[0]} rows but the calibration was fitted on {n}"
        )


@dataclass(frozen=True, eq=False)
class PostStratification:
    """One ``postStratify`` step: the cell of each row, its weights before and after.

    ``labels`` are the cell labels in code order (for reports); ``totals`` the population
    total of each used cell.
    """

    codes: np.ndarray
    labels: tuple[Hashable, ...]
    totals: tuple[float, ...]
    oldweights: np.ndarray
    weights: np.ndarray
    _indicator: sparse.csr_matrix = field(init=False, repr=False)
    _psw: np.ndarray = field(init=False, repr=False)
    _old_sums: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        psw = np.array(self.weights, dtype=np.float64)
        psw[(psw == 0) & (self.oldweights == 0)] = 1.0
        indicator = cell_indicator(self.codes, len(self.labels))
        object.__setattr__(self, "_indicator", indicator)
        object.__setattr__(self, "_psw", psw)
        object.__setattr__(self, "_old_sums", indicator @ self.oldweights)

    def residualize(self, x: np.ndarray) -> np.ndarray:
        """Subtract each cell's weighted mean of ``x / w`` times ``w``, as R's svyrecvar."""
        mat, was_vector = _as_matrix(x)
        _check_rows(mat, len(self.codes))
        scaled = mat * (self.oldweights / self._psw)[:, None]
        psmeans = (self._indicator @ scaled) / self._old_sums[:, None]
        out = mat - psmeans[self.codes] * self._psw[:, None]
        return out[:, 0] if was_vector else out


@dataclass(frozen=True, eq=False)
class RakingMargin:
    """One margin of R's last raking pass: cell codes and the weights after that margin.

    Rows of weight 0 (e.g. nonrespondents after :func:`nonresponse_adjust`) make R's sweep
    0 / 0 = NaN; here they are left out of the within-cell mean and keep their value, which
    gives R's result for the same design without those rows.
    """

    codes: np.ndarray
    labels: tuple[Hashable, ...]
    weights: np.ndarray
    _indicator: sparse.csr_matrix = field(init=False, repr=False)
    _counts: np.ndarray = field(init=False, repr=False)
    _positive: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        positive = self.weights > 0
        indicator = cell_indicator(self.codes, len(self.labels))
        object.__setattr__(self, "_indicator", indicator)
        object.__setattr__(self, "_positive", positive[:, None])
        object.__setattr__(self, "_counts", indicator @ positive.astype(np.float64))

    @property
    def counts(self) -> np.ndarray:
        """Rows of positive weight per cell: the denominator of R's ``ave``."""
        return self._counts

    def _inverse(self) -> np.ndarray:
        return np.divide(1.0, self.weights, out=np.zeros_like(self.weights),
                         where=self._positive[:, 0])

    def cell_sums(self, x: np.ndarray) -> np.ndarray:
        """Σ x / psw per cell (zero-weight rows left out)."""
        return self._indicator @ (x * self._inverse()[:, None])

    def cross(self, other: RakingMargin) -> np.ndarray:
        """K[g, h] = Σ over rows in cell g of self and h of other of psw_other / psw_self.

        What one unit of ``other``'s cell vector subtracts from this margin's cell sums.
        """
        ratio = other.weights * self._inverse()
        g, h = len(self.labels), len(other.labels)
        flat = np.bincount(self.codes * h + other.codes, weights=ratio, minlength=g * h)
        return flat.reshape(g, h)

    def sweep(self, x: np.ndarray) -> np.ndarray:
        """``x - psw * ave(x / psw, margin)``: R's unweighted within-cell mean of ``x / w``.

        The literal form of one sweep (the reference :meth:`Raking.residualize` regroups).
        """
        psw = self.weights[:, None]
        ratio = np.divide(x, psw, out=np.zeros_like(x), where=self._positive)
        means = (self._indicator @ ratio) / self._counts[:, None]
        return x - psw * means[self.codes]


# R's svyrecvar sweeps a raking calibration a fixed ten times, converged or not.
RAKING_VARIANCE_SWEEPS = 10


@dataclass(frozen=True, eq=False)
class Raking:
    """A ``rake`` result: its margins, and how the iteration ended (for reports)."""

    margins: tuple[RakingMargin, ...]
    iterations: int
    converged: bool
    max_change: float
    _cross: tuple[tuple[np.ndarray, ...], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.margins:
            raise ValueError("a raking calibration needs at least one margin")
        cross = tuple(tuple(m.cross(other) for other in self.margins) for m in self.margins)
        object.__setattr__(self, "_cross", cross)

    def residualize(self, x: np.ndarray) -> np.ndarray:
        """Ten sweeps over the margins, exactly as R (not iterated to convergence).

        Each sweep subtracts ``psw_m * c[cell_m]`` for a cell vector ``c``, so the result is
        ``x − Σ_m psw_m * C_m[cell_m]``.  The ``C_m`` are found by running the sweeps on
        cell-level sums (cross-tables of the margins), which costs two passes over ``x`` per
        margin instead of ten; the arithmetic is R's, only regrouped.
        """
        mat, was_vector = _as_matrix(x)
        _check_rows(mat, len(self.margins[0].codes))
        sums = [m.cell_sums(mat) for m in self.margins]
        acc = [np.zeros((len(m.labels), mat.shape[1])) for m in self.margins]
        for _ in range(RAKING_VARIANCE_SWEEPS):
            for i, margin in enumerate(self.margins):
                current = sums[i] - sum(k @ c for k, c in zip(self._cross[i], acc, strict=True))
                acc[i] += current / margin.counts[:, None]
        out = mat.copy()
        for margin, c in zip(self.margins, acc, strict=True):
            out -= margin.weights[:, None] * c[margin.codes]
        return out[:, 0] if was_vector else out
