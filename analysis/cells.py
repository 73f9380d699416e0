"""Estimates from a table of weighted answer counts, without the rows.

Every SIPAS estimate is a ratio of weighted sums of answer codes, so a database can do the
heavy part with one ``GROUP BY stratum, psu, domain, item, code`` and hand over a few
thousand cells instead of millions of rows. This module takes those cells as plain arrays
(no database here) and returns the same :class:`~analysis.engine.EngineResult` as
:func:`analysis.engine.run` on the rows, to rounding (the tests compare the two to 1e-12).

Two designs are covered, the two the app analyses:

* **clustered, one stage** (R ``svydesign(ids = ~psu, strata = ~stratum, weights = ~w)``,
  the household survey): influence values only enter the variance as PSU totals, and a PSU's
  total for an item is Σ over its cells of Σw · (a − R·b) / B̂, so ``wsum`` per cell is enough;
* **each row its own unit** (R ``ids = ~1``, the desk evaluations, strata = desks): the
  variance needs Σz² over rows as well, hence Σw² per cell (``wsum2``).

Not covered, and why: finite population corrections over several stages need the units of
the second stage (the cells would have to be keyed by household, i.e. the rows); calibrated
(raked) variances residualise every row's influence value on its margin categories, which a
cell table could carry only if it were keyed by every margin variable too. Those go through
:func:`analysis.engine.run` on rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis.codes import combine
from analysis.design import LONELY_PSU_POLICIES, make_design
from analysis.engine import EngineResult, slots_of
from analysis.variance import group_sum, linearized_variance


@dataclass(frozen=True, eq=False)
class CellTable:
    """Weighted answer counts: one entry per (stratum, psu, domain, item, answer code).

    ``count`` counts the rows with a positive weight (the n of an estimate), ``wsum`` their
    Σw and ``wsum2`` their Σw² (needed only when every row is its own unit). ``code`` is the
    answer as a number, NaN when the row has no answer to the item. ``domain`` is -1 for rows
    in no domain (they still count in the whole sample).
    """

    stratum: np.ndarray
    domain: np.ndarray
    item: np.ndarray
    code: np.ndarray
    count: np.ndarray
    wsum: np.ndarray
    psu: np.ndarray | None = None
    wsum2: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class CellDesign:
    """What the variance needs to know of the design beyond the cells.

    ``units`` is the number of sampled units per stratum code when rows are their own units;
    ``psu_stratum`` the stratum code of every PSU code when clustered (PSUs with no answers at
    all still count). ``strata_labels`` name strata in error messages.
    """

    strata_labels: tuple[str, ...]
    units: np.ndarray | None = None
    psu_stratum: np.ndarray | None = None
    lonely_psu: str = "fail"

    def __post_init__(self) -> None:
        if (self.units is None) == (self.psu_stratum is None):
            raise ValueError("give either units per stratum or the stratum of every PSU")
        if self.lonely_psu not in LONELY_PSU_POLICIES:
            raise ValueError(f"lonely PSU policy must be one of {', '.join(LONELY_PSU_POLICIES)}")


@dataclass(frozen=True, eq=False)
class CellIndicator:
    """A coded indicator of one item: a = numer[code + 1], b = denom[code + 1] (0 = missing)."""

    name: str
    item: int
    numer: np.ndarray
    denom: np.ndarray


def coded_tables(satisfied: Sequence[int], valid: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The (numer, denom) slot tables of a 0/1 "satisfied" indicator over the valid codes."""
    bad = set(satisfied) - set(valid)
    if bad:
        raise ValueError(f"satisfied codes {sorted(bad)} are not among the valid codes")
    top = max(valid)
    numer, denom = np.zeros(top + 2), np.zeros(top + 2)
    denom[[c + 1 for c in valid]] = 1.0
    numer[[c + 1 for c in satisfied]] = 1.0
    return numer, denom


def mean_tables(valid: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Slot tables of the mean of the valid codes themselves (a mean score)."""
    top = max(valid)
    numer, denom = np.zeros(top + 2), np.zeros(top + 2)
    for c in valid:
        numer[c + 1], denom[c + 1] = float(c), 1.0
    return numer, denom


def run_cells(table: CellTable, design: CellDesign, indicators: Sequence[CellIndicator],
              n_domains: int = 0) -> EngineResult:
    """Estimate every indicator in the whole sample and in each domain, from cells.

    Same output as :func:`analysis.engine.run`: row 0 the whole sample, then one row per
    domain code 0..n_domains-1.

    The sums run over *entries*, the (cell, indicator) pairs where the cell holds a valid
    answer to the indicator's item, not over a cells × indicators matrix: a cell answers
    one item, so the matrix was mostly zeros (nine indicators over seven items at the
    desks), and a page estimates four breakdowns of 20,000 cells.
    """
    k = len(indicators)
    cells, ind, a, b = _entries(table, indicators)
    n_dom = 1 + n_domains
    dom_slot = np.where(table.domain < 0, n_domains, table.domain).astype(np.int64)[cells]
    # each entry counts in the whole sample (slot 0) and, when in a domain, in 1 + domain
    inside = np.flatnonzero(dom_slot < n_domains)
    at = np.concatenate([np.arange(cells.size), inside])
    cells, ind, a, b = cells[at], ind[at], a[at], b[at]
    dom = np.concatenate([np.zeros(at.size - inside.size, dtype=np.int64),
                          dom_slot[inside] + 1])
    w = table.wsum[cells]
    slot = dom * k + ind  # (domain, indicator) of every entry

    def by_domain(x: np.ndarray) -> np.ndarray:
        return np.bincount(slot, weights=x, minlength=n_dom * k).reshape(n_dom, k)

    wa, wb = w * a, w * b
    ta, tb, taa = by_domain(wa), by_domain(wb), by_domain(wa * a / b)
    present = table.count[cells].astype(float)
    n_valid = by_domain(present)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = ta / tb
        r, t = ratio.ravel()[slot], tb.ravel()[slot]
        z = np.nan_to_num((wa - r * wb) / t, nan=0.0, posinf=0.0, neginf=0.0)
        srs = (taa - 2 * ratio * ta + ratio**2 * tb) / tb / (n_valid - 1)
    entries = _Entries(dom, ind, k, z, present)
    if design.psu_stratum is not None:
        if table.psu is None:
            raise ValueError("a clustered cell table needs the PSU of every cell")
        var, df = _clustered(design, table.psu[cells], n_dom, entries)
    else:
        if table.wsum2 is None:
            raise ValueError("cells of rows that are their own units need Σw² (wsum2)")
        w2 = table.wsum2[cells]
        with np.errstate(invalid="ignore", divide="ignore"):
            zz = np.nan_to_num(w2 * (a - r * b) ** 2 / t**2, nan=0.0, posinf=0.0, neginf=0.0)
        var, df = _unclustered(design, table.stratum[cells], n_dom, entries, zz)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(var)
        deff = var / srs
    return EngineResult(ratio, se, df, n_valid, deff, tb)


def _entries(table: CellTable, indicators: Sequence[CellIndicator]
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(cell, indicator, a, b) of every cell with a valid answer (b > 0) to an indicator's
    item: a cell without one adds nothing to any sum (its a and b are 0)."""
    parts = []
    for j, indicator in enumerate(indicators):
        mine = np.flatnonzero(table.item == indicator.item)
        slot = slots_of(table.code[mine], len(indicator.numer) - 2)
        b = indicator.denom[slot]
        valid = b > 0
        mine, b = mine[valid], b[valid]
        parts.append((mine, np.full(mine.size, j, dtype=np.int64),
                      indicator.numer[slot[valid]] * b, b))
    if not parts:
        none = np.zeros(0)
        return none.astype(np.int64), none.astype(np.int64), none, none
    return tuple(np.concatenate(p) for p in zip(*parts, strict=True))  # type: ignore[return-value]


@dataclass(frozen=True, eq=False)
class _Entries:
    """Entries in a domain: their domain slot, indicator, influence value and n."""

    dom: np.ndarray
    ind: np.ndarray
    k: int
    z: np.ndarray
    present: np.ndarray

    def sums(self, group: np.ndarray, n_groups: int, x: np.ndarray) -> np.ndarray:
        """Σx per (group, indicator), as a groups × indicators matrix."""
        return np.bincount(group * self.k + self.ind, weights=x,
                           minlength=n_groups * self.k).reshape(n_groups, self.k)


def _clustered(design: CellDesign, psu: np.ndarray, n_dom: int, entries: _Entries
               ) -> tuple[np.ndarray, np.ndarray]:
    """PSU totals into the engine's own variance (one row per PSU stands for the design).
    A PSU with no entry in a domain is a zero total there, as the variance counts it."""
    ps = np.asarray(design.psu_stratum, dtype=np.int64)
    n_psu = ps.size
    labels = design.strata_labels or tuple(str(i + 1) for i in range(int(ps.max()) + 1))
    strata = np.array(labels, dtype=object)[ps]
    psu_design = make_design(n_psu, strata=strata, clusters=[np.arange(n_psu)],
                             lonely_psu=design.lonely_psu)
    unit_of_psu = psu_design.stages[0].unit  # the design renumbers PSUs within strata
    cell, used = combine(unit_of_psu[psu.astype(np.int64)], entries.dom, n_dom)
    unit, dom = used // n_dom, used % n_dom
    res = linearized_variance(psu_design, unit, dom, n_dom,
                              entries.sums(cell, used.size, entries.z),
                              entries.sums(cell, used.size, entries.present))
    return res.variance, res.df


def _unclustered(design: CellDesign, strata: np.ndarray, n_dom: int, entries: _Entries,
                 zz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """R's stratified variance of totals when every row is its own PSU, from Σz and Σz².

    Per stratum h and domain: n_h/(n_h − 1) · (Σz² − (Σz)²/n_h), n_h counting every sampled
    row of the stratum (in the domain or not), as ``svyrecvar`` does after ``subset()``. A
    stratum with no entry in a domain adds nothing there.
    """
    size_of = np.asarray(design.units, dtype=float)
    g, used = combine(strata.astype(np.int64), entries.dom, n_dom)
    n_groups = used.size
    g_stratum, g_dom = used // n_dom, used % n_dom
    s = entries.sums(g, n_groups, entries.z)
    q = entries.sums(g, n_groups, zz)
    p = entries.sums(g, n_groups, entries.present)
    size = size_of[g_stratum][:, None]
    ss = np.maximum(q - s * s / size, 0.0)
    scale = np.where(size > 1, size / np.maximum(size - 1, 1), 1.0)
    contrib = ss * scale
    lonely = (size_of[g_stratum] == 1)[:, None] & np.ones_like(p, dtype=bool)
    seen = p > 0
    policy = design.lonely_psu
    if policy == "fail" and (lonely & seen).any():
        h = int(g_stratum[np.flatnonzero((lonely & seen).any(axis=1))[0]])
        label = design.strata_labels[h] if design.strata_labels else "1"
        raise ValueError(f"Stratum ({label}) has only one PSU at stage 1; choose a --lonely-psu "
                         "policy (remove, certainty, adjust, average)")
    if policy in ("remove", "certainty"):
        contrib = np.where(lonely, 0.0, contrib)
    elif policy == "adjust":
        contrib = np.where(lonely, s * s, contrib)
    elif policy == "average":
        contrib = np.where(lonely, np.where(seen, np.nan, 0.0), contrib)
    var = group_sum(g_dom, np.nan_to_num(contrib, nan=0.0), n_dom)
    if policy == "average":
        n_strata = group_sum(g_dom, seen.astype(float), n_dom)
        n_ok = group_sum(g_dom, (seen & ~lonely).astype(float), n_dom)
        with np.errstate(invalid="ignore", divide="ignore"):
            var = var * n_strata / n_ok
    df = (group_sum(g_dom, p, n_dom) - group_sum(g_dom, seen.astype(float), n_dom))
    return var, df.astype(np.int64)
