"""Linearisation variance exactly as R ``survey:::svyrecvar`` (multistage, lonely PSUs).

The input is not a row-level matrix but *cells*: sums of influence values per (unit of the
finest variance stage, domain). Since influence values are zero outside a domain, this is all
the variance needs, and it is small (thousands of cells for a million rows). The groups of one
stage are the cells of the stage above, so the recursion of R is one loop over stages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.codes import combine
from analysis.design import Design

SELF_REPRESENTING = 1e-7  # R: all(f < 1e-7) means a certainty stratum, variance 0


@dataclass(frozen=True)
class VarianceResult:
    """Variance and R ``degf`` of the subset design for every (domain, column)."""

    variance: np.ndarray  # (n_dom, k)
    df: np.ndarray  # (n_dom, k) int


# a matrix of at most this many entries with at least FLAT_COLUMNS columns is summed in one
# bincount over (group, column) pairs: its index array costs 8 bytes an entry (8 MB here;
# a national round's 37,000 x 57 would add 60 MB to a dashboard's peak for 3 ms a sum)
FLAT_MOST, FLAT_COLUMNS = 1_000_000, 16


def group_sum(group: np.ndarray, x: np.ndarray, n_groups: int) -> np.ndarray:
    """Column sums of ``x`` (n, k) by integer ``group``: one ``np.bincount`` per column
    (3-7 times quicker than sorting the rows by group for ``np.add.reduceat``, and no
    copy of the whole matrix). A province's household index matrices (57 columns: three
    per criterion) are summed in a single bincount over (group, column) pairs instead,
    1.2-1.7 times quicker: each sum still adds its rows in row order, so the result is the
    same to the last bit."""
    if x.ndim == 1:
        return np.bincount(group, weights=x, minlength=n_groups)
    n, k = x.shape
    if k >= FLAT_COLUMNS and n * k <= FLAT_MOST:
        pairs = (group[:, None] * k + np.arange(k)).ravel()
        return np.bincount(pairs, weights=x.ravel(), minlength=n_groups * k).reshape(
            n_groups, k)
    out = np.zeros((n_groups, x.shape[1]))
    for j in range(x.shape[1]):
        out[:, j] = np.bincount(group, weights=x[:, j], minlength=n_groups)
    return out


def finest_unit(design: Design) -> tuple[np.ndarray, int]:
    """Row → unit of the deepest stage that enters the variance, and the number of units."""
    stage = design.stages[design.variance_stages - 1]
    return stage.unit, stage.n_units


def influence_totals(design: Design, z: np.ndarray) -> np.ndarray:
    """Row influence values (n, k) as totals per unit of the deepest variance stage, after
    each calibration's residuals (R's svyrecvar on a calibrated design): (units, k)."""
    for cal in design.calibrations:
        z = cal.residualize(z)
    unit_row, n_units = finest_unit(design)
    return group_sum(unit_row, z, n_units)


def totals_variance(design: Design, totals: np.ndarray, present: np.ndarray
                    ) -> VarianceResult:
    """Linearised variance of unit totals (:func:`influence_totals`) of one domain, the
    whole design's strata and PSUs seen; ``present`` (n,) marks the rows in the subset,
    which decide the df (and the strata a lonely-PSU policy sees)."""
    unit_row, n_units = finest_unit(design)
    pres = np.bincount(unit_row, weights=present.astype(float), minlength=n_units)
    return linearized_variance(design, np.arange(n_units), np.zeros(n_units, dtype=np.int64),
                               1, totals, np.repeat(pres[:, None], totals.shape[1], axis=1),
                               rows_kept=bool(design.calibrations))


def linearized_variance(
    design: Design,
    cell_unit: np.ndarray,
    cell_dom: np.ndarray,
    n_dom: int,
    z: np.ndarray,
    present: np.ndarray,
    rows_kept: bool = False,
    in_domain: np.ndarray | None = None,
) -> VarianceResult:
    """Variance of totals of influence values ``z`` summed per cell.

    ``present`` counts the rows of each cell that belong to the column's subset (domain and a
    valid answer): it decides which strata R would see after ``subset()``, which matters for
    lonely PSUs and for ``degf``. ``in_domain`` (rows of each cell, whatever their answers)
    lets the strata seen come from the domain alone while ``degf`` still comes from
    ``present``: R's ``svyratio(~s, ~v, subset(design, domain))`` for a SIPAS criterion,
    where rows without a valid answer are in the subset with 0/0. ``rows_kept`` mimics
    subsets of calibrated designs, where R keeps every row with zero weight so that every
    stratum is seen.
    """
    policy = design.lonely_psu
    k = z.shape[1]
    var = np.zeros((n_dom, k))
    df = np.zeros((n_dom, k), dtype=np.int64)
    unit, dom = cell_unit, cell_dom
    pres = present.astype(float)
    # one column for every indicator: the same rows are in the domain whatever the answers
    rows_in = None if in_domain is None else np.asarray(in_domain, dtype=float).reshape(-1, 1)
    for s in range(design.variance_stages - 1, -1, -1):
        st = design.stages[s]
        g, used = combine(st.parent[unit], dom, n_dom)
        n_groups = used.size
        g_parent, g_dom = used // n_dom, used % n_dom
        size = st.size[g_parent]
        sum_z = group_sum(g, z, n_groups)
        mean = sum_z / size[:, None]
        n_cells = np.bincount(g, minlength=n_groups)
        ss = group_sum(g, (z - mean[g]) ** 2, n_groups) + (size - n_cells)[:, None] * mean**2
        g_pres = group_sum(g, pres, n_groups)
        g_in = None if rows_in is None else group_sum(g, rows_in, n_groups)
        seen = (np.ones_like(g_pres, dtype=bool) if rows_kept
                else g_pres > 0 if g_in is None else g_in > 0)
        f = st.f[g_parent]
        lonely = (size == 1) & (f >= SELF_REPRESENTING)
        scale = np.where(size > 1, f * size / np.maximum(size - 1, 1), f)
        scale = np.where(f < SELF_REPRESENTING, 0.0, scale)
        contrib = ss * scale[:, None]
        if lonely.any():
            contrib = _lonely(design, s, policy, contrib, lonely, seen, sum_z, scale, g_parent)
        contrib = contrib * st.multiplier[g_parent][:, None]
        stage_var = group_sum(g_dom, np.nan_to_num(contrib, nan=0.0), n_dom)
        if s == 0:
            if policy == "average":
                n_strata = group_sum(g_dom, seen.astype(float), n_dom)
                n_ok = group_sum(g_dom, (seen & ~lonely[:, None]).astype(float), n_dom)
                with np.errstate(invalid="ignore", divide="ignore"):
                    stage_var = stage_var * n_strata / n_ok
            cell_seen = pres > 0
            df = (group_sum(dom, cell_seen.astype(float), n_dom)
                  - group_sum(g_dom, (g_pres > 0).astype(float), n_dom)).astype(np.int64)
        else:
            bad = group_sum(g_dom, np.isnan(contrib).astype(float), n_dom) > 0
            stage_var[bad] = np.nan
        var = var + stage_var
        unit, dom, z, pres, rows_in = g_parent, g_dom, sum_z, g_pres, g_in
    return VarianceResult(var, df)


def _lonely(
    design: Design,
    s: int,
    policy: str,
    contrib: np.ndarray,
    lonely: np.ndarray,
    seen: np.ndarray,
    sum_z: np.ndarray,
    scale: np.ndarray,
    g_parent: np.ndarray,
) -> np.ndarray:
    """Apply ``options(survey.lonely.psu)`` to groups with a single sampled unit."""
    hit = lonely[:, None] & seen
    if policy == "fail":
        if hit.any():
            p = int(g_parent[np.flatnonzero(hit.any(axis=1))[0]])
            if s == 0:
                where = f"Stratum ({design.stratum_label(p)}) has only one PSU at stage 1"
            else:
                where = f"PSU ({design.unit_label(s - 1, p)}) has only one unit at stage {s + 1}"
            raise ValueError(f"{where}; choose a --lonely-psu policy (remove, certainty, "
                             "adjust, average)")
        return contrib
    contrib = contrib.copy()
    if policy in ("remove", "certainty"):
        contrib[lonely] = 0.0
    elif policy == "adjust":
        contrib[lonely] = (sum_z[lonely] ** 2) * scale[lonely][:, None]
    elif policy == "average":
        contrib[lonely] = np.where(seen[lonely], np.nan, 0.0)
    return contrib
