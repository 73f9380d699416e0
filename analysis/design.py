"""Survey designs as R's ``svydesign``: strata, multistage clusters, weights, fpc, lonely PSUs.

A :class:`Design` is immutable; weighting returns a new one through ``dataclasses.replace``
(new weights, one more entry in ``calibrations``), and the stage structure used by the
variance is rebuilt automatically.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from analysis.codes import Categorical, combine, factorize, representative

LONELY_PSU_POLICIES = ("fail", "remove", "certainty", "adjust", "average")


@dataclass(frozen=True, eq=False)
class Stage:
    """One sampling stage: units nested in parents (strata at stage 1, units above after).

    ``f`` is R's finite population correction (N - n)/N per parent (1 without fpc) and
    ``fraction`` the sampling fraction n/N that multiplies the next stage's variance.
    ``multiplier`` is the product of the fractions of all earlier stages for each parent.
    """

    unit: np.ndarray  # (n,) unit code of every row
    n_units: int
    parent: np.ndarray  # (n_units,) parent code of every unit
    n_parents: int
    size: np.ndarray  # (n_parents,) number of sampled units in each parent
    f: np.ndarray  # (n_parents,)
    fraction: np.ndarray  # (n_parents,)
    multiplier: np.ndarray  # (n_parents,)


@dataclass(frozen=True, eq=False)
class Design:
    """A probability sample: what R's ``svydesign(ids, strata, weights, fpc, nest)`` holds.

    ``clusters`` holds one code array per stage, already nested (unique within the parent);
    ``popsize`` holds the population size per stage and row (``None`` without fpc).
    ``calibrations`` are objects with ``residualize(x)`` applied before the variance.
    """

    weights: np.ndarray
    strata: np.ndarray
    strata_labels: tuple[str, ...]
    clusters: tuple[np.ndarray, ...]
    cluster_labels: tuple[Categorical, ...] = ()
    popsize: tuple[np.ndarray, ...] | None = None
    lonely_psu: str = "fail"
    nest: bool = False
    has_clusters: bool = True
    calibrations: tuple = ()
    stages: tuple[Stage, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.lonely_psu not in LONELY_PSU_POLICIES:
            raise ValueError(
                f"lonely PSU policy must be one of {', '.join(LONELY_PSU_POLICIES)}, "
                f"not {self.lonely_psu!r}"
            )
        object.__setattr__(self, "stages", _build_stages(self))

    @property
    def n(self) -> int:
        return int(self.weights.shape[0])

    @property
    def variance_stages(self) -> int:
        """Stages entering the variance: all of them only with an fpc at every stage (R)."""
        return len(self.stages) if self.popsize is not None else 1

    def stratum_label(self, code: int) -> str:
        return self.strata_labels[code] if self.strata_labels else "1"

    def unit_label(self, stage: int, unit: int) -> str:
        """Name a unit of a stage (0-based) for error messages."""
        if stage >= len(self.cluster_labels):
            return str(unit + 1)
        rows = np.flatnonzero(self.stages[stage].unit == unit)
        cat = self.cluster_labels[stage]
        return cat.labels[cat.codes[rows[0]]] if rows.size and cat.codes[rows[0]] >= 0 else "?"

    def degf(self) -> int:
        """R ``degf(design)``: PSUs minus strata among rows with non-zero weight."""
        ok = self.weights != 0
        stage = self.stages[0]
        # presence tables, O(n): np.unique would sort ten million rows twice
        psus = np.count_nonzero(np.bincount(stage.unit[ok], minlength=stage.n_units))
        strata = np.count_nonzero(np.bincount(self.strata[ok], minlength=stage.n_parents))
        return int(psus - strata)

    def summary(self) -> dict:
        """What the JSON output says about the design."""
        return {
            "n": self.n,
            "n_strata": int(np.count_nonzero(np.bincount(self.strata))) if self.n else 0,
            "n_psus": int(self.stages[0].n_units),
            "stages": len(self.stages),
            "df": self.degf(),
            "sum_weights": float(self.weights.sum()),
            "fpc": self.popsize is not None,
            "nest": self.nest,
            "lonely_psu": self.lonely_psu,
            "calibrated": len(self.calibrations) > 0,
        }


def _build_stages(design: Design) -> tuple[Stage, ...]:
    stages: list[Stage] = []
    parent_of_row = design.strata
    n_parents = int(design.strata.max()) + 1 if design.strata.size else 0
    multiplier = np.ones(n_parents)
    for s, unit in enumerate(design.clusters):
        n_units = int(unit.max()) + 1 if unit.size else 0
        rep = representative(unit, n_units)
        parent = parent_of_row[rep]
        size = np.bincount(parent, minlength=n_parents).astype(float)
        if design.popsize is None:
            f = np.ones(n_parents)
            fraction = np.zeros(n_parents)
        else:
            pop = design.popsize[s][representative(parent_of_row, n_parents)]
            f = np.where(np.isinf(pop), 1.0, (pop - size) / pop)
            fraction = size / pop
        stages.append(Stage(unit, n_units, parent, n_parents, size, f, fraction, multiplier))
        multiplier = (multiplier * fraction)[parent]
        parent_of_row, n_parents = unit, n_units
    return tuple(stages)


def make_design(
    n: int,
    *,
    weights: np.ndarray | None = None,
    strata: Categorical | np.ndarray | None = None,
    clusters: Sequence[Categorical | np.ndarray] = (),
    fpc: Sequence[np.ndarray] = (),
    nest: bool = False,
    lonely_psu: str = "fail",
) -> Design:
    """Build a design from raw columns, checking it the way ``svydesign`` does.

    ``clusters`` are the stages (R ``ids = ~a + b``; empty for ``ids = ~1``); ``fpc`` holds
    one column per stage, population sizes if any value is > 1, else sampling fractions.
    Without weights, weights come from the fpc at every stage, as in R.
    """
    if lonely_psu not in LONELY_PSU_POLICIES:
        raise ValueError(f"--lonely-psu must be one of {', '.join(LONELY_PSU_POLICIES)}")
    if strata is None:
        s_codes, s_labels = np.zeros(n, dtype=np.int64), ("1",)
    else:
        cat = factorize(strata)
        if (cat.codes < 0).any():
            raise ValueError(f"strata are empty in {int((cat.codes < 0).sum())} rows")
        s_codes, s_labels = cat.codes.astype(np.int64), cat.labels
    has_clusters = len(clusters) > 0
    cats = [factorize(c) for c in clusters] if has_clusters else [
        Categorical(np.arange(n, dtype=np.int64), ())
    ]
    for s, cat in enumerate(cats):
        if (cat.codes < 0).any():
            raise ValueError(f"cluster ids of stage {s + 1} are empty in some rows")
    units: list[np.ndarray] = []
    outer = s_codes
    for s, cat in enumerate(cats):
        code, _ = combine(outer, cat.codes, len(cat.labels) if cat.labels else n)
        if s == 0 and has_clusters and not nest:
            _check_nested(code, cat, s_labels, s_codes)
        units.append(code)
        outer = code
    if fpc and len(fpc) != len(cats):
        raise ValueError(f"give an fpc for each of the {len(cats)} stages, or none")
    popsize = _popsize(fpc, units, s_codes) if fpc else None
    base = Design(
        weights=np.ones(n), strata=s_codes, strata_labels=s_labels, clusters=tuple(units),
        cluster_labels=tuple(cats) if has_clusters else (), popsize=popsize,
        lonely_psu=lonely_psu, nest=nest, has_clusters=has_clusters,
    )
    if weights is None:
        if popsize is None:
            return base
        prob = np.ones(n)
        for stage in base.stages:
            prob = prob * stage.fraction[stage.parent][stage.unit]
        w = 1.0 / prob
    else:
        w = np.asarray(weights, dtype=float)
        if np.isnan(w).any():
            raise ValueError(f"weights are missing or not numeric in {int(np.isnan(w).sum())} rows")
        if (w < 0).any():
            raise ValueError(f"weights are negative in {int((w < 0).sum())} rows")
        if w.size and not (w > 0).any():
            raise ValueError("every weight is zero: there is nothing to estimate "
                             "(check the weight column)")
    return Design(
        weights=w, strata=s_codes, strata_labels=s_labels, clusters=tuple(units),
        cluster_labels=base.cluster_labels, popsize=popsize, lonely_psu=lonely_psu,
        nest=nest, has_clusters=has_clusters,
    )


def _check_nested(code: np.ndarray, cat: Categorical, s_labels: tuple, s_codes: np.ndarray) -> None:
    """R stops when a PSU id appears in two strata unless ``nest = TRUE``."""
    rep = representative(code, int(code.max()) + 1)
    psu_of_unit = cat.codes[rep]
    counts = np.bincount(psu_of_unit, minlength=len(cat.labels))
    if (counts > 1).any():
        bad = int(np.flatnonzero(counts > 1)[0])
        raise ValueError(
            f"PSU {cat.labels[bad]!r} appears in more than one stratum: "
            "clusters are not nested in strata (use --nest if PSU ids repeat across strata)"
        )


def _popsize(
    fpc: Sequence[np.ndarray], units: list[np.ndarray], s_codes: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Population size per stage and row, from sizes (> 1) or fractions (≤ 1) as R's as.fpc."""
    cols = [np.asarray(c, dtype=float) for c in fpc]
    for c in cols:
        if np.isnan(c).any():
            raise ValueError("fpc is missing or not numeric in some rows")
        if (c <= 0).any():
            raise ValueError("fpc must be positive")
    is_size = any((c > 1).any() for c in cols)
    if is_size and any((c < 1).any() for c in cols):
        raise ValueError("fpc must be all population sizes (≥ 1) or all sampling fractions (≤ 1)")
    out: list[np.ndarray] = []
    parent = s_codes
    for s, unit in enumerate(units):
        n_parents = int(parent.max()) + 1
        rep = representative(unit, int(unit.max()) + 1)
        size = np.bincount(parent[rep], minlength=n_parents).astype(float)[parent]
        pop = cols[s] if is_size else size / cols[s]
        spread = _varies_within(pop, parent, n_parents)
        if spread.size:
            raise ValueError(f"fpc varies within a stratum or cluster at stage {s + 1}")
        if (pop < size - 1e-9).any():
            raise ValueError(f"fpc implies more than 100% sampling at stage {s + 1}")
        out.append(pop)
        parent = unit
    return tuple(out)


def _varies_within(values: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    lo = np.full(n_groups, np.inf)
    hi = np.full(n_groups, -np.inf)
    np.minimum.at(lo, group, values)
    np.maximum.at(hi, group, values)
    return np.flatnonzero(hi - lo > 1e-9 * np.maximum(1.0, np.abs(hi)))
