"""Is district A different from district B? Differences of domain estimates with their SE.

Two domains of one sample are not independent (they share strata, and a PSU may hold rows
of both), so the SE of a difference is not √(SE_A² + SE_B²). R computes it as
``svycontrast(svyby(~y, ~domain, design, svyratio, denominator = ~v, covmat = TRUE),
c(1, -1))``: the contrast of the two ratios' influence values. The influence value of the
difference is simply the difference of the two domains' influence values (each zero outside
its domain), so its variance is one linearised variance of that column, through the same
multistage recursion, fpc and calibration residuals as every other estimate here.

Two rounds are two independent samples: the variance of their difference is the sum of the
two variances (R: the two SEs from two designs, ``sqrt(se1^2 + se2^2)``).

Degrees of freedom: the design's ``degf`` for domains of one sample (what
``confint(svycontrast(...), df = degf(design))`` uses); for two rounds the smaller of the
two, which is conservative (R has no joint design to take it from). The verdict words mirror
targets: "higher" when the interval of the difference lies above 0, "lower" below, else
"cannot be told apart".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis.ci import t_quantile
from analysis.design import Design
from analysis.variance import finest_unit, group_sum, influence_totals, totals_variance

HIGHER, LOWER, ALIKE = "higher", "lower", "cannot be told apart"
CHUNK = 256  # domains per block of PSU totals in index_against_whole
MAX_CELLS = 8_000_000  # PSUs × domains beyond which the comparison is not made (about 1 s)


@dataclass(frozen=True)
class Difference:
    """``first`` minus ``second``: both estimates, the difference, its SE, CI and verdict."""

    name: str
    first: str
    second: str
    estimate_first: float | None
    estimate_second: float | None
    difference: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    df: int
    p_value: float | None
    verdict: str | None
    note: str = ""


def _ratio_parts(design: Design, indicator, inside: np.ndarray  # type: ignore[no-untyped-def]
                 ) -> tuple[float, np.ndarray, np.ndarray]:
    """The domain's ratio, its row influence values (zero outside) and valid rows."""
    a, b, valid = indicator.row_values()
    w = design.weights * inside
    ta, tb = float(w @ a), float(w @ b)
    if tb == 0:
        return float("nan"), np.zeros(design.n), valid & inside
    ratio = ta / tb
    return ratio, w * (a - ratio * b) / tb, valid & inside


def _variance(design: Design, z: np.ndarray, present: np.ndarray) -> float:
    """Linearised variance of the total of row influence values ``z`` (R's svyrecvar)."""
    return float(totals_variance(design, influence_totals(design, z[:, None]),
                                 present).variance[0, 0])


def _finish(name: str, first: str, second: str, e1: float, e2: float, var: float, df: int,
            level: float, note: str = "") -> Difference:
    from scipy.special import stdtr

    def num(x: float) -> float | None:
        return float(x) if np.isfinite(x) else None

    diff = e1 - e2
    se = float(np.sqrt(var)) if var >= 0 else float("nan")
    if not (np.isfinite(diff) and np.isfinite(se)) or df <= 0:
        why = note or ("no valid answers in one of them" if not np.isfinite(diff)
                       else "df ≤ 0: no CI" if df <= 0 else "variance not available")
        return Difference(name, first, second, num(e1), num(e2), num(diff), num(se), None,
                          None, df, None, None, why)
    t = float(t_quantile(np.array([df]), 1 - (1 - level) / 2)[0])
    low, high = diff - t * se, diff + t * se
    p = 1.0 if se == 0 and diff == 0 else (
        0.0 if se == 0 else float(2 * stdtr(df, -abs(diff) / se)))
    verdict = HIGHER if low > 0 else LOWER if high < 0 else ALIKE
    return Difference(name, first, second, e1, e2, diff, se, low, high, df, p, verdict, note)


def domain_differences(design: Design, indicator, domains: np.ndarray,  # type: ignore[no-untyped-def]
                       labels: Sequence[str], pairs: Sequence[tuple[int, int]],
                       level: float = 0.95) -> list[Difference]:
    """``estimate(first) − estimate(second)`` for each pair of domain codes in ``pairs``.

    ``domains`` holds a code per row (−1: in none); ``indicator`` is an engine indicator
    (a coded share or a numeric mean/ratio). Two-sided p-value and CI with the design's df.
    """
    df = design.degf()
    out = []
    parts = {}
    for code in sorted({c for pair in pairs for c in pair}):
        parts[code] = _ratio_parts(design, indicator, domains == code)
    for first, second in pairs:
        e1, z1, v1 = parts[first]
        e2, z2, v2 = parts[second]
        var = _variance(design, z1 - z2, v1 | v2)
        out.append(_finish(indicator.name, labels[first], labels[second], e1, e2, var, df,
                           level))
    return out


def round_difference(name: str, new: tuple[str, float, float, int],
                     old: tuple[str, float, float, int], level: float = 0.95) -> Difference:
    """Two independent samples (two rounds): each as (label, estimate, SE, df)."""
    (l1, e1, s1, d1), (l2, e2, s2, d2) = new, old
    return _finish(name, l1, l2, e1, e2, s1**2 + s2**2, min(d1, d2), level,
                   "" if min(d1, d2) > 0 else "df ≤ 0 in one of the rounds")


def _index_influence(design: Design, answers, elements, satisfied, valid,  # type: ignore[no-untyped-def]
                     group: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray,
                                                                np.ndarray]:
    """The SIPAS overall index of every group (code per row, −1 in none) and each row's
    influence on its own group's index; also the rows with any valid answer.

    Each criterion is a ratio per group; an element is the mean of its criteria with valid
    answers in the group, the overall the mean of the elements present (as the index).
    """
    from analysis.estimate import satisfied_indicator

    w = design.weights
    member = group >= 0
    g = np.where(member, group, 0)
    element_est = []
    element_z = []
    answered = np.zeros(design.n, dtype=bool)
    for items in elements:
        ests, zs, here = [], [], []
        for code in items:
            a, b, ok = satisfied_indicator(code, answers[code], satisfied, valid).row_values()
            a, b = a * member, b * member
            answered |= ok & member
            ta = np.bincount(g, weights=w * a, minlength=n_groups)
            tb = np.bincount(g, weights=w * b, minlength=n_groups)
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = np.where(tb > 0, ta / np.where(tb > 0, tb, 1), np.nan)
                z = np.where(tb[g] > 0, w * (a - ratio[g] * b) / np.where(tb > 0, tb, 1)[g],
                             0.0)
            ests.append(ratio)
            zs.append(z)
            here.append(tb > 0)
        present = np.array(here)  # (items, groups)
        count = present.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            est = np.where(count > 0, np.nansum(np.where(present, np.array(ests), 0), axis=0)
                           / np.maximum(count, 1), np.nan)
            weight = present / np.maximum(count, 1)  # each present item's share, per group
        element_est.append(est)
        element_z.append(np.sum(np.array(zs) * weight[:, g], axis=0))
    has = ~np.isnan(np.array(element_est))  # (elements, groups)
    n_el = has.sum(axis=0)
    overall = np.where(n_el > 0, np.nansum(np.where(has, element_est, 0), axis=0)
                       / np.maximum(n_el, 1), np.nan)
    z = np.sum(np.array(element_z) * (has / np.maximum(n_el, 1))[:, g], axis=0) * member
    return overall, z, answered


def whole_influence(design: Design, answers, elements, satisfied, valid,  # type: ignore[no-untyped-def]
                    whole: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The whole's SIPAS index, each row's influence on it and the rows with a valid answer
    (what :func:`index_against_whole` needs of the whole): the same for every breakdown of
    one page, so a page computes it once and hands it to each."""
    return _index_influence(design, answers, elements, satisfied, valid,
                            np.where(whole, 0, -1), 1)


def index_against_whole(design: Design, answers, elements, satisfied, valid,  # type: ignore[no-untyped-def]
                        domain: np.ndarray, labels: Sequence[str], whole: np.ndarray,
                        whole_name: str, level: float = 0.95,
                        whole_parts: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
                        ) -> list[Difference]:
    """Each domain's SIPAS overall index minus the whole's (``whole``: the rows of the
    province, or of the filtered unit), with the SE of that difference: the domain is part
    of the whole, which the influence difference accounts for (R: ``svycontrast`` of the
    two indices from one ``svyratio(..., covmat = TRUE)``). Domains must be made of whole
    PSUs (districts, communes, hamlets of a hamlet sample), which lets a million rows be
    one matrix of PSU totals. df: the PSUs minus strata of the whole. ``whole_parts``: the
    whole's :func:`whole_influence`, when the caller has it already."""
    n_dom = len(labels)
    inside = (domain >= 0) & whole
    est_d, z_d, ok_d = _index_influence(design, answers, elements, satisfied, valid,
                                        np.where(inside, domain, -1), n_dom)
    est_w, z_w, ok_w = whole_parts or whole_influence(design, answers, elements, satisfied,
                                                      valid, whole)
    unit_row, n_units = finest_unit(design)
    unit_dom = np.full(n_units, -1)
    unit_dom[unit_row[inside]] = domain[inside]
    if (unit_dom[unit_row[inside]] != domain[inside]).any():
        raise ValueError("a PSU lies in two domains: compare these domains with sipas compare")
    if design.calibrations:  # residuals are row-level: not on PSU totals
        raise ValueError("comparing domains with the whole on a calibrated design is not "
                         "done here: use sipas compare")
    if n_units * n_dom > MAX_CELLS:
        raise ValueError(f"{n_dom} domains over {n_units} PSUs: too many to compare with the "
                         "whole here")
    whole_z = -group_sum(unit_row, z_w[:, None], n_units)
    own = group_sum(unit_row, z_d[:, None], n_units)[:, 0]
    placed = np.flatnonzero(unit_dom >= 0)
    variance = np.zeros(n_dom)
    df = 0
    for first in range(0, n_dom, CHUNK):  # a block of domains at a time: memory stays small
        last = min(first + CHUNK, n_dom)
        cols = np.repeat(whole_z, last - first, axis=1)
        mine = placed[(unit_dom[placed] >= first) & (unit_dom[placed] < last)]
        cols[mine, unit_dom[mine] - first] += own[mine]
        res = totals_variance(design, cols, ok_w & whole)
        variance[first:last] = res.variance[0]
        df = int(res.df[0, 0])
    return [_finish("SIPAS", labels[d], whole_name, float(est_d[d]), float(est_w[0]),
                    float(variance[d]), df, level) for d in range(n_dom)]
