"""Survey weighting: nonresponse adjustment, post-stratification and raking, as R ``survey``.

Why here: SIPAS responses under-represent some groups (the young, men, towns), so base
weights are adjusted within cells for nonresponse and then calibrated to population counts
of the province.  Calibrated weights alone would give the right point estimates but the
wrong variance; every calibration therefore returns a new design that carries a record of
the step (:mod:`analysis.weighting_calibration`) so the variance engine can residualise the
influence values exactly as R's ``svyrecvar`` does.

* :func:`poststratify` — R ``postStratify(design, ~cells, population, partial)``.
* :func:`rake` — R ``rake(design, margins, populations, control = list(maxit, epsilon))``,
  with R's convergence test: stop when the largest change of the joint weighted table of
  all margin variables between two passes is below ``epsilon × Σ original weights``
  (``epsilon`` < 1) or below ``epsilon`` itself (``epsilon`` ≥ 1).
* :func:`nonresponse_adjust` — weighting-class adjustment.
* :func:`poststratify_from_csv`, :func:`rake_from_csv` — the same from a CSV of population
  totals (UTF-8, with or without BOM).  Two formats:

  **Post-stratification (joint table)**: one column per cell variable, named as the data
  column, plus ``total``; one line per cell::

      sex,age_band,total
      1,18-25,41000
      2,18-25,39500

  **Raking (one-way margins, long)**: exactly the columns ``variable,value,total``; one line
  per category of each margin, margins in order of first appearance::

      variable,value,total
      sex,1,512000
      sex,2,538000
      urban,Thành thị,300000

  Data values may be numeric codes or text: both sides are compared as stripped strings,
  and a whole-number float in the data (``1.0``) reads as ``1``.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from analysis.weighting_calibration import (
    CellMismatchError,
    PostStratification,
    Raking,
    RakingMargin,
    cell_indicator,
    factorize,
)
from analysis.weighting_csv import read_margins_csv, read_poststrata_csv, totals_columns

if TYPE_CHECKING:
    from analysis.design import Design

__all__ = [
    "CellMismatchError",
    "PostStratification",
    "Raking",
    "MarginsDisagreeWarning",
    "disagreeing_totals",
    "RakingNotConvergedWarning",
    "nonresponse_adjust",
    "poststratify",
    "poststratify_from_csv",
    "rake",
    "rake_from_csv",
    "totals_columns",
]


class MarginsDisagreeWarning(UserWarning):
    """Raking margins whose grand totals differ: one of them cannot be met (R warns too)."""


class RakingNotConvergedWarning(UserWarning):
    """Raking stopped at ``maxit`` passes before meeting the convergence test (R warns too)."""


def _check_weights(weights: np.ndarray) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1:
        raise ValueError("weights must be one value per row")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and non-negative")
    return w


def _describe(label: Hashable, names: Sequence[str] | None) -> str:
    if names is not None and isinstance(label, tuple) and len(label) == len(names):
        return ", ".join(f"{n}={v}" for n, v in zip(names, label, strict=True))
    if names is not None and len(names) == 1:
        return f"{names[0]}={label}"
    return repr(label)


def _factorize_cells(
    cells: Sequence[Hashable] | np.ndarray, totals: Mapping[Hashable, float], n: int
) -> tuple[np.ndarray, list[Hashable]]:
    if len(cells) != n:
        raise ValueError(f"cells has {len(cells)} labels but the design has {n} rows")
    if any(not np.isfinite(v) or v < 0 for v in totals.values()):
        raise ValueError("population totals must be finite and non-negative")
    return factorize(cells)


def _poststratify_step(
    weights: np.ndarray,
    cells: tuple[np.ndarray, list[Hashable]],
    totals: Mapping[Hashable, float],
    partial: bool,
    names: Sequence[str] | None,
) -> PostStratification:
    """One R ``postStratify``: scale each cell's weights so they sum to its population total.

    ``cells`` is already factorised (codes, labels), so that raking does it once.
    """
    codes, labels = cells
    sample = cell_indicator(codes, len(labels)) @ weights
    pop = np.empty(len(labels))
    for j, label in enumerate(labels):
        total = totals.get(label)
        if total is None or not total > 0:
            raise CellMismatchError(
                label, "sample",
                f"sample cell {_describe(label, names)} has no positive population total",
            )
        if not sample[j] > 0:
            raise CellMismatchError(
                label, "zero", f"cell {_describe(label, names)} has only zero-weight rows"
            )
        pop[j] = total
    present = set(labels)
    empty = [k for k, v in totals.items() if k not in present and v != 0]
    if empty and not partial:
        raise CellMismatchError(
            empty[0], "population",
            f"population cell {_describe(empty[0], names)} has no sample"
            f"{f' (and {len(empty) - 1} more)' if len(empty) > 1 else ''}; "
            "use partial=True to ignore such cells",
        )
    if empty:
        warnings.warn("Some strata absent from sample: ignored", UserWarning, stacklevel=3)
    new = weights * (pop / sample)[codes]
    return PostStratification(codes, tuple(labels), tuple(pop), weights, new)


def poststratify(
    design: Design,
    cells: Sequence[Hashable] | np.ndarray,
    totals: Mapping[Hashable, float],
    partial: bool = False,
    *,
    cell_names: Sequence[str] | None = None,
) -> Design:
    """Post-stratify ``design`` to a joint table of population ``totals``, as R ``postStratify``.

    ``cells`` holds one hashable label per row (e.g. a tuple of the cell variables' values);
    ``totals`` maps each label to its population count.  A sample cell without a positive
    total is an error (R: "Strata in sample absent from population"); a population cell
    with no sample is an error unless ``partial``, which ignores it with a warning.
    ``cell_names`` only improves messages.
    """
    weights = _check_weights(design.weights)
    coded = _factorize_cells(cells, totals, len(weights))
    step = _poststratify_step(weights, coded, totals, partial, cell_names)
    return dataclasses.replace(
        design, weights=step.weights, calibrations=tuple(design.calibrations) + (step,)
    )


def _joint_codes(coded: list[tuple[np.ndarray, list[Hashable]]]) -> tuple[np.ndarray, int]:
    """Code of each row in the cross-classification of all margins (R's ``svytable(ff)``)."""
    joint, size = np.zeros(len(coded[0][0]), dtype=np.int64), 1
    for codes, labels in coded:
        _, joint = np.unique(joint * len(labels) + codes, return_inverse=True)
        joint = joint.reshape(-1)
        size = int(joint.max()) + 1
    return joint, size


def disagreeing_totals(
    margins: Sequence[tuple[object, Mapping[Hashable, float]]],
    names: Sequence[str] | None = None,
) -> dict[str, float]:
    """Each margin's grand total by name, when they differ (raking cannot meet them all);
    an empty dict when they agree."""
    grand = {names[m] if names is not None else f"margin {m + 1}": float(sum(t.values()))
             for m, (_, t) in enumerate(margins)}
    values = list(grand.values())
    if max(values) - min(values) > 1e-9 * max(abs(g) for g in values):
        return grand
    return {}


def rake(
    design: Design,
    margins: Sequence[tuple[Sequence[Hashable] | np.ndarray, Mapping[Hashable, float]]],
    maxit: int = 200,
    epsilon: float = 1e-8,
    *,
    names: Sequence[str] | None = None,
) -> Design:
    """Rake ``design`` to one-way (or joint) margins, as R ``rake(..., control=list(...))``.

    Each pass post-stratifies to every margin in turn.  Converged when the largest change of
    the joint weighted table between passes is below ``epsilon × Σw`` (``epsilon`` < 1,
    ``Σw`` the weights before raking) or ``epsilon`` (≥ 1).  Without convergence after
    ``maxit`` passes the raked design is still returned, with a
    :class:`RakingNotConvergedWarning` (R warns the same way).  ``names`` label the margins
    in messages.
    """
    if not margins:
        raise ValueError("rake needs at least one margin")
    if maxit < 1:
        raise ValueError(f"maxit must be at least 1, got {maxit}")
    if not epsilon > 0:
        raise ValueError(f"epsilon must be positive, got {epsilon}")
    if names is not None and len(names) != len(margins):
        raise ValueError("names must give one name per margin")
    weights = _check_weights(design.weights)
    tolerance = epsilon * weights.sum() if epsilon < 1 else epsilon
    coded = [_factorize_cells(cells, totals, len(weights)) for cells, totals in margins]
    joint, n_joint = _joint_codes(coded)
    old_table = np.bincount(joint, weights=weights, minlength=n_joint)
    iterations, converged, delta = 0, False, float("inf")
    steps: list[PostStratification] = []
    current = weights
    while iterations < maxit:
        steps = []
        for m, (_, totals) in enumerate(margins):
            label = [names[m]] if names is not None else None
            try:
                step = _poststratify_step(current, coded[m], totals, False, label)
            except CellMismatchError as exc:
                where = names[m] if names is not None else f"margin {m + 1}"
                raise CellMismatchError(exc.label, exc.kind, f"{where}: {exc}", m) from None
            steps.append(step)
            current = step.weights
        new_table = np.bincount(joint, weights=current, minlength=n_joint)
        delta = float(np.max(np.abs(old_table - new_table)))
        if delta < tolerance:
            converged = True
            break
        old_table = new_table
        iterations += 1
    grand = disagreeing_totals(margins, names)
    if grand:
        shown = ", ".join(f"{name} {g:,.6g}" for name, g in grand.items())
        warnings.warn(
            f"the margins' grand totals differ ({shown}): raking cannot meet them all, "
            "and the weights end on the last margin's total; make every margin add up to "
            "the same population", MarginsDisagreeWarning, stacklevel=2)
    if not converged:
        warnings.warn(
            f"Raking did not converge after {iterations} iterations "
            f"(largest change {delta:.3g} ≥ tolerance {tolerance:.3g}); "
            "raise maxit or check that the margins agree on the population size",
            RakingNotConvergedWarning,
            stacklevel=2,
        )
    record = Raking(
        margins=tuple(RakingMargin(s.codes, s.labels, s.weights) for s in steps),
        iterations=iterations + 1 if converged else iterations,
        converged=converged,
        max_change=delta,
    )
    return dataclasses.replace(
        design, weights=current, calibrations=tuple(design.calibrations) + (record,)
    )


def nonresponse_adjust(
    weights: np.ndarray, responded: np.ndarray, cells: Sequence[Hashable] | np.ndarray
) -> np.ndarray:
    """Weighting-class nonresponse adjustment: respondents carry their cell's nonrespondents.

    A respondent's weight becomes ``w × Σw(cell) / Σw(respondents in cell)``; nonrespondents
    get 0, so the weighted total of every cell is preserved.  A cell with eligible units but
    no respondent (with positive weight) cannot be adjusted: collapse it with a neighbour.
    Nonrespondents may stay in the design at weight 0 (their PSUs still count) and the
    design can then be calibrated; see :mod:`analysis.weighting_calibration` for how zero
    weights enter the calibrated variance.
    """
    w = _check_weights(weights)
    resp = np.asarray(responded)
    if resp.dtype != np.bool_:
        raise ValueError("responded must be a boolean array (True for a respondent)")
    if len(resp) != len(w) or len(cells) != len(w):
        raise ValueError(
            f"weights ({len(w)}), responded ({len(resp)}) and cells ({len(cells)}) "
            "must have one value per sampled unit"
        )
    codes, labels = factorize(cells)
    indicator = cell_indicator(codes, len(labels))
    all_sum = indicator @ w
    resp_sum = indicator @ np.where(resp, w, 0.0)
    bad = np.flatnonzero((resp_sum <= 0) & (all_sum > 0))
    if len(bad):
        raise ValueError(
            f"nonresponse cell {labels[bad[0]]!r} has no respondents with positive weight"
            f"{f' (and {len(bad) - 1} more cells)' if len(bad) > 1 else ''}; "
            "collapse it with a neighbouring cell"
        )
    factor = np.divide(all_sum, resp_sum, out=np.ones_like(all_sum), where=resp_sum > 0)
    return np.where(resp, w * factor[codes], 0.0)


def poststratify_from_csv(
    design: Design, columns: Mapping[str, np.ndarray], path: str | Path, partial: bool = False
) -> Design:
    """Post-stratify to the joint table in ``path`` (format in the module docstring)."""
    table = read_poststrata_csv(path, columns)
    try:
        return poststratify(design, table.cells, table.totals, partial, cell_names=table.names)
    except CellMismatchError as exc:
        raise ValueError(table.explain(exc)) from None


def rake_from_csv(
    design: Design,
    columns: Mapping[str, np.ndarray],
    path: str | Path,
    maxit: int = 200,
    epsilon: float = 1e-8,
) -> Design:
    """Rake to the long ``variable,value,total`` margins in ``path`` (module docstring)."""
    table = read_margins_csv(path, columns)
    try:
        return rake(design, table.margins, maxit, epsilon, names=table.names)
    except CellMismatchError as exc:
        raise ValueError(table.explain(exc)) from None
