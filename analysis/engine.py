"""One pass from rows to ratio estimates, SEs, df and deff for every (domain, indicator).

Every SIPAS quantity is a ratio Σw·a / Σw·b over the rows of a domain with a valid answer
(a mean: b = 1; a proportion: a = 0/1; a total: no denominator). Rows are summed once into
cells (finest variance unit × domain) with ``np.bincount``; everything after that works on
the small cell table. Row 0 of every output is the whole sample, then one row per domain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.codes import combine
from analysis.design import Design
from analysis.variance import finest_unit, group_sum, linearized_variance


@dataclass(frozen=True, eq=False)
class CodedIndicator:
    """An indicator read off integer answer codes: a = numer[slot], b = denom[slot].

    ``slots`` is code + 1 for integer codes (0 = missing or not a code); indicators that share
    one ``slots`` array are counted in a single bincount.
    """

    name: str
    slots: np.ndarray
    numer: np.ndarray
    denom: np.ndarray

    def row_values(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        b = self.denom[self.slots]
        return self.numer[self.slots] * b, b, b > 0


@dataclass(frozen=True, eq=False)
class NumericIndicator:
    """A numeric column: mean (denom = 1 on valid rows), ratio, or total (``denom`` None)."""

    name: str
    numer: np.ndarray
    valid: np.ndarray
    denom: np.ndarray | None = None

    def row_values(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a = np.where(self.valid, self.numer, 0.0)
        b = (self.valid.astype(float) if self.denom is None
             else np.where(self.valid, self.denom, 0.0))
        return a, b, self.valid


@dataclass(frozen=True)
class EngineResult:
    """Arrays of shape (1 + n_domains, n_columns)."""

    estimate: np.ndarray
    se: np.ndarray
    df: np.ndarray
    n: np.ndarray
    deff: np.ndarray
    denominator: np.ndarray


def slots_of(values: np.ndarray, max_code: int = 254) -> np.ndarray:
    """Code + 1 for integer answers 0..max_code; 0 for empty, 9-style codes stay codes.

    Integer arrays (a file's code column read as integers, -1 where empty) skip the float
    checks. The result is ``uint8`` whenever the codes fit: ten million rows × 22 items of
    slots are then 220 MB instead of 1.8 GB.
    """
    v = np.asarray(values)
    dtype = np.uint8 if max_code < 255 else np.int64
    if v.dtype in (np.int8, np.int16, np.uint8, np.uint16) and max_code < 255:
        # read unsigned, a negative code is a huge one: one comparison keeps 0..max_code;
        # then code + 1 as a byte, zeroed where not a code (three passes over 2-byte values)
        signed = v.dtype.kind == "i"
        u = v.astype(np.int16 if signed else np.uint16, copy=False).view(np.uint16)
        ok = u <= max_code
        out = np.add(u, 1, dtype=np.uint16).astype(np.uint8)
        np.multiply(out, ok, out=out)
        return out
    if np.issubdtype(v.dtype, np.integer):
        v = v.astype(np.int64, copy=False)  # a byte's 255 + 1 must not wrap to 0
        ok = (v >= 0) & (v <= max_code)
    else:
        v = v.astype(float, copy=False)
        # NaN and ±inf fail these comparisons, so no separate finiteness pass is needed
        with np.errstate(invalid="ignore"):
            ok = (v >= 0) & (v <= max_code) & (v == np.floor(v))
    out = np.zeros(v.shape, dtype=dtype)
    np.add(v, 1, out=out, where=ok, casting="unsafe")
    return out


def run(
    design: Design,
    indicators: list,
    domain: np.ndarray | None = None,
    n_domains: int = 0,
    totals: tuple[bool, ...] | None = None,
    combos=None,
    combo_valid: list[np.ndarray] | None = None,
    seen_by_domain: bool = False,
) -> EngineResult:
    """Estimate every indicator in the whole sample and in each domain.

    ``domain`` holds a code 0..n_domains-1 per row (-1: in no domain). ``combos`` (1 + D, O, J)
    (a function of the (1 + D, J) counts of valid answers)
    adds linear combinations per domain (SIPAS element and overall indices),
    whose df and n come from ``combo_valid`` (row masks: a valid answer to any item combined).
    ``seen_by_domain``: the strata a lonely-PSU policy sees are those with rows in the domain
    (R's ``svyratio(~s, ~v, subset(design, domain))``, the SIPAS criterion), not those with a
    valid answer (``svymean(~y, subset(design, domain & !is.na(y)))``); df is the latter's.
    """
    n = design.n
    w = design.weights
    unit_row, _ = finest_unit(design)
    dom_row = np.full(n, n_domains, dtype=np.int64) if domain is None else np.where(
        domain < 0, n_domains, domain)
    n_slot = n_domains + 1
    cell_row, used = combine(unit_row, dom_row, n_slot)
    n_cells = used.size
    positive = w > 0
    everyone = bool(positive.all())
    general = _needs_general_srs(indicators)
    sums = _cell_sums(indicators, cell_row, n_cells, w, None if everyone else positive,
                      general)
    extra = [np.bincount(cell_row, weights=m if everyone else m & positive, minlength=n_cells)
             for m in (combo_valid or [])]
    # cells of the whole sample (domain 0) then of each domain (1 + d); drop "no domain".
    cu, cd = used // n_slot, used % n_slot
    whole_u, whole_inv = np.unique(cu, return_inverse=True)
    keep = cd < n_domains
    cell_unit = np.concatenate([whole_u, cu[keep]])
    cell_dom = np.concatenate([np.zeros(whole_u.size, dtype=np.int64), cd[keep] + 1])
    n_dom = 1 + n_domains

    def stack(x: np.ndarray) -> np.ndarray:
        return np.concatenate([group_sum(whole_inv, x, whole_u.size), x[keep]])

    wa, wb, waa, cnt = (stack(s) for s in sums[:4])
    ta, tb, taa = (group_sum(cell_dom, x, n_dom) for x in (wa, wb, waa))
    n_valid = group_sum(cell_dom, cnt, n_dom)
    is_total = np.array(totals or [False] * len(indicators))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(is_total, ta, ta / tb)
        zc = np.where(is_total, wa, (wa - ratio[cell_dom] * wb) / tb[cell_dom])
    zc = np.nan_to_num(zc, nan=0.0, posinf=0.0, neginf=0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        # the variance under simple random sampling (with replacement) of n valid rows, as
        # R's deff = "replace": N Σw(a − μb)² / (Σwb)² / (n − 1), N the valid rows' weight;
        # for a 0/1 b (means, shares) this is Σw·b(y − μ)² / Σwb / (n − 1)
        mu = ta / tb
        if general:
            tab, tbb, tv = (group_sum(cell_dom, stack(x), n_dom) for x in sums[4:])
            srs = tv * (taa - 2 * mu * tab + mu**2 * tbb) / tb**2 / (n_valid - 1)
        else:
            srs = (taa - 2 * mu * ta + mu**2 * tb) / tb / (n_valid - 1)
        srs = np.where(is_total, srs * tb**2, srs)
    est, present, nn = ratio, cnt, n_valid
    if combos is not None:
        combos = combos(n_valid)
        zc = np.concatenate([zc, np.einsum("cj,coj->co", zc, combos[cell_dom])], axis=1)
        with np.errstate(invalid="ignore"):
            est = np.concatenate([ratio, np.einsum("dj,doj->do", np.nan_to_num(ratio),
                                                   combos)], axis=1)
        extra_c = np.stack([stack(e) for e in extra], axis=1)
        present = np.concatenate([cnt, extra_c], axis=1)
        nn = group_sum(cell_dom, present, n_dom)
        srs = np.concatenate([srs, np.full(est[:, ratio.shape[1]:].shape, np.nan)], axis=1)
        tb = np.concatenate([tb, np.full(srs[:, ratio.shape[1]:].shape, np.nan)], axis=1)
    if design.calibrations:
        res = _calibrated_variance(design, indicators, dom_row, n_domains, ratio, tb, is_total,
                                   combos, cell_unit, cell_dom, present, unit_row)
    else:
        rows_in = None
        if seen_by_domain:
            rows_in = stack(np.bincount(cell_row, weights=None if everyone else positive,
                                        minlength=n_cells).astype(float))
        res = linearized_variance(design, cell_unit, cell_dom, n_dom, zc, present,
                                  in_domain=rows_in)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(res.variance)
        deff = res.variance / srs
    return EngineResult(est, se, res.df, nn, deff, tb)


def _needs_general_srs(indicators: list) -> bool:
    """Does any indicator have a denominator that is not 0/1 (a ratio of two variables)?"""
    for ind in indicators:
        if isinstance(ind, CodedIndicator):
            if not np.isin(ind.denom, (0.0, 1.0)).all():
                return True
        elif ind.denom is not None:
            return True
    return False


def _cell_sums(
    indicators: list, cell_row: np.ndarray, n_cells: int, w: np.ndarray,
    counted: np.ndarray | None, general: bool = False,
) -> tuple[np.ndarray, ...]:
    """Σw·a, Σw·b, Σw·a², and counts of valid rows per cell, for every indicator; with
    ``general`` also Σw·a·b, Σw·b² and Σw over valid rows, which a ratio's design effect
    needs when ``b`` is not 0/1 (R's ``svyratio(..., deff = "replace")``; for 0/1 they
    equal Σw·a, Σw·b and Σw·b, and are not kept: a national file has 66 columns of them).

    ``counted`` marks the rows with a positive weight (None: all of them, the usual case,
    which saves a row-sized array and a weighted count per item).
    """
    out = np.zeros((7 if general else 4, n_cells, len(indicators)))
    tables: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    scaled: dict[int, np.ndarray] = {}  # cell_row * size, computed once per table size
    k = np.empty(0, dtype=np.int64)  # one key buffer for every item: no page faults per item
    for j, ind in enumerate(indicators):
        if isinstance(ind, CodedIndicator):
            key = id(ind.slots)
            if key not in tables:
                size = len(ind.numer)
                if size not in scaled:
                    scaled[size] = cell_row * size
                if k.size != cell_row.size:
                    k = np.empty(cell_row.size, dtype=np.int64)
                np.add(scaled[size], ind.slots, out=k)
                wt = np.bincount(k, weights=w, minlength=n_cells * size).reshape(n_cells, size)
                ct = (np.bincount(k, minlength=n_cells * size) if counted is None else
                      np.bincount(k, weights=counted, minlength=n_cells * size))
                tables[key] = (wt, ct.reshape(n_cells, size).astype(float))
            wt, ct = tables[key]
            out[0, :, j] = wt @ (ind.numer * ind.denom)
            out[1, :, j] = wt @ ind.denom
            out[2, :, j] = wt @ (ind.numer**2 * ind.denom)
            out[3, :, j] = ct @ (ind.denom > 0)
            if general:
                a, b = ind.numer * ind.denom, ind.denom
                out[4, :, j] = wt @ (a * b)
                out[5, :, j] = wt @ (b * b)
                out[6, :, j] = wt @ (b > 0)
        else:
            a, b, valid = ind.row_values()
            out[0, :, j] = np.bincount(cell_row, weights=w * a, minlength=n_cells)
            out[1, :, j] = np.bincount(cell_row, weights=w * b, minlength=n_cells)
            out[2, :, j] = np.bincount(cell_row, weights=w * a * a, minlength=n_cells)
            out[3, :, j] = np.bincount(cell_row, weights=valid if counted is None
                                       else valid & counted, minlength=n_cells)
            if general:
                out[4, :, j] = np.bincount(cell_row, weights=w * a * b, minlength=n_cells)
                out[5, :, j] = np.bincount(cell_row, weights=w * b * b, minlength=n_cells)
                out[6, :, j] = np.bincount(cell_row, weights=w * valid, minlength=n_cells)
    return tuple(out)


def _calibrated_variance(design, indicators, dom_row, n_domains, ratio, tb, is_total, combos,
                         cell_unit, cell_dom, present, unit_row):
    """Row-level influence values, residualised by each calibration, then summed per unit.

    Calibration residuals spread over every row, so the cell shortcut does not apply: this
    path builds the dense (n, k) matrix R's ``svyrecvar`` sees, one domain at a time (memory),
    with R's rule that subsets of calibrated designs keep all rows.
    """
    n_units = int(unit_row.max()) + 1
    n_dom = 1 + n_domains
    w = design.weights
    rows = [ind.row_values() for ind in indicators]
    a = np.stack([r[0] for r in rows], axis=1)
    b = np.stack([r[1] for r in rows], axis=1)
    zs = []
    for d in range(n_dom):
        inside = np.ones(design.n, dtype=bool) if d == 0 else dom_row == d - 1
        r = np.nan_to_num(ratio[d])
        with np.errstate(invalid="ignore", divide="ignore"):
            x = np.where(is_total, w[:, None] * a, w[:, None] * (a - r * b) / tb[d, :len(r)])
        x = np.nan_to_num(x) * inside[:, None]
        if combos is not None:
            x = np.concatenate([x, x @ combos[d].T], axis=1)
        for cal in design.calibrations:
            x = cal.residualize(x)
        zs.append(group_sum(unit_row, x, n_units))
    z = np.concatenate(zs)
    dense_unit = np.tile(np.arange(n_units), n_dom)
    dense_dom = np.repeat(np.arange(n_dom), n_units)
    pres = np.zeros_like(z)
    pres[cell_dom * n_units + cell_unit] = present
    return linearized_variance(design, dense_unit, dense_dom, n_dom, z, pres, rows_kept=True)
