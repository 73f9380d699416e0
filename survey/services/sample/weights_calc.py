"""The arithmetic of household weights, on arrays (no database), so it can be tested alone.

Steps, in order (DESIGN.md §4):

1. Base weight ``1 / (π_hamlet × π_within)``; ``π_within = min(1, m / L)`` with ``m`` the
   questionnaires issued in the hamlet and ``L`` the count listed in the field.
2. Nonresponse adjustment within the hamlet (:func:`analysis.weighting.nonresponse_adjust`):
   respondents carry the weight of the hamlet's refusals, absences and not-found. A hamlet
   with fewer than ``min_respondents`` respondents is pooled with the other such hamlets of
   its stratum, so one respondent never carries a whole hamlet.
3. One adult per household: times the household's number of adults (π_within divided by it).
4. Optional raking to one-way margins (:func:`analysis.weighting.rake_from_csv`, R's
   ``rake``) over all respondents, screened-out included — they are adults of the
   population too.
5. Optional trimming at ``trim × median`` with the excess spread over the other weights,
   so the total is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analysis.design import make_design
from analysis.weighting import disagreeing_totals, nonresponse_adjust, rake_from_csv
from analysis.weighting_csv import read_margins_csv
from survey.messages import N_, UserError

TRIM_MAX_PASSES = 50


@dataclass(frozen=True)
class WeightArrays:
    """Per row: π_within (after adults), base weight before the adults factor (respondents
    and nonrespondents: its sum estimates the listed population), final (0: nonrespondent)."""

    prob_stage2: np.ndarray
    base: np.ndarray
    final: np.ndarray
    collapsed: tuple[str, ...]
    rake_iterations: int | None
    trimmed: int
    # per margin category after raking and trimming: (variable, value, target, achieved)
    achieved: tuple[tuple[str, str, float, float], ...] = ()


def nonresponse_cells(
    psu: np.ndarray, stratum: np.ndarray, responded: np.ndarray, min_respondents: int
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Cell label per row: the hamlet, or its stratum's pool of too-small hamlets."""
    counts: dict[str, int] = {}
    for p, r in zip(psu.tolist(), responded.tolist(), strict=True):
        counts[p] = counts.get(p, 0) + int(r)
    small = {p for p, c in counts.items() if c < min_respondents}
    cells = np.array([f"pool:{s}" if p in small else f"psu:{p}"
                      for p, s in zip(psu.tolist(), stratum.tolist(), strict=True)], dtype=object)
    return cells, tuple(sorted(small))


def trim_weights(weights: np.ndarray, ratio: float) -> tuple[np.ndarray, int]:
    """Cap weights at ``ratio × median`` of the positive weights, keeping their total."""
    if not ratio > 1:
        raise ValueError(f"--trim must be greater than 1 (a multiple of the median), "
                         f"got {ratio}")
    w = weights.astype(float).copy()
    positive = w > 0
    cap = ratio * float(np.median(w[positive]))
    total = w.sum()
    if cap * positive.sum() < total:
        raise ValueError(f"--trim {ratio} is too low: weights capped at {ratio} × the median "
                         "cannot keep the total; use a larger multiple")
    capped = np.zeros_like(positive)
    for _ in range(TRIM_MAX_PASSES):
        over = positive & (w > cap * (1 + 1e-12))
        if not over.any():
            break
        capped |= over
        w[capped] = cap
        free = positive & ~capped
        w[free] *= (total - cap * capped.sum()) / w[free].sum()
    return w, int(capped.sum())


def compute_arrays(
    *,
    prob_stage1: np.ndarray,
    issued: np.ndarray,
    listed: np.ndarray,
    psu: np.ndarray,
    stratum: np.ndarray,
    responded: np.ndarray,
    adults: np.ndarray | None = None,
    min_respondents: int = 5,
    margins: Path | None = None,
    columns: Mapping[str, np.ndarray] | None = None,
    trim: float | None = None,
) -> WeightArrays:
    """Weights of every row (see the module docstring); ``adults`` is used for respondents."""
    if min_respondents < 1:
        raise ValueError(f"--min-respondents must be at least 1, got {min_respondents}")
    within = np.minimum(1.0, issued / listed)
    household = 1.0 / (prob_stage1 * within)
    cells, collapsed = nonresponse_cells(psu, stratum, responded, min_respondents)
    try:
        adjusted = nonresponse_adjust(household, responded, cells)
    except ValueError as exc:
        raise ValueError(f"{exc} (pooled hamlets of a stratum had no respondent at all)") from None
    prob2 = within.copy()
    final = adjusted
    if adults is not None:
        factor = np.where(responded, adults, 1.0)
        if np.any(responded & ~(factor >= 1)):
            raise ValueError("the number of adults must be at least 1 for every respondent")
        prob2 = within / factor
        final = adjusted * factor
    iterations = None
    if margins is not None:
        keep = responded
        design = make_design(int(keep.sum()), weights=final[keep], strata=stratum[keep],
                             clusters=[psu[keep]], nest=True)
        cols = {k: np.asarray(v, dtype=object)[keep] for k, v in (columns or {}).items()}
        table = read_margins_csv(margins, cols)
        grand = disagreeing_totals(table.margins, table.names)
        if grand:
            raise UserError(N_("the margins add up to different totals (%(totals)s): every "
                               "margin must add up to the same population, or the weights "
                               "cannot meet them all"),
                            totals="; ".join(f"{k} {v:g}" for k, v in grand.items()))
        raked = rake_from_csv(design, cols, margins)
        final = final.copy()
        final[keep] = raked.weights
        iterations = raked.calibrations[-1].iterations
    trimmed = 0
    if trim is not None:
        final, trimmed = trim_weights(final, trim)
    achieved: tuple[tuple[str, str, float, float], ...] = ()
    if margins is not None:  # what the final weights reach, beside each target
        table = read_margins_csv(margins, cols)
        kept = final[responded]
        achieved = tuple(
            (name, str(value), float(target), float(kept[labels == value].sum()))
            for name, (labels, totals) in zip(table.names, table.margins, strict=True)
            for value, target in totals.items())
    return WeightArrays(prob2, household, final, collapsed, iterations, trimmed, achieved)
