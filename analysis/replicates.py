"""Replicate weights: a file that can be analysed without its strata and PSUs.

A province may release its data without design identifiers (they locate hamlets) and still
let analysts compute honest SEs: each row carries R replicate weights, and the variance of
any estimate is the spread of the R estimates computed with them. As R's
``as.svrepdesign``:

- ``jkn`` (delete-one-PSU jackknife per stratum): replicate *j* of stratum *h* drops PSU *j*
  (weight 0) and multiplies the stratum's other PSUs by n_h / (n_h − 1); rscale
  (1 − f_h)(n_h − 1)/n_h with f_h the stage-1 sampling fraction; scale 1.
- ``bootstrap`` (Canty & Davison): each replicate resamples n_h PSUs with replacement in
  every stratum (from the ``N_h`` pseudo-population with an fpc); the multiplier is how
  often a PSU was drawn; scale n̄ / ((n̄ − 1)(R − 1)) with n̄ the harmonic mean of PSUs per
  stratum; rscales 1. The draws are this module's (a seeded numpy generator), not R's: the
  same seed gives the same file, and estimation from replicate weights R made gives R's SEs.

Variance (R's ``svrVar`` with ``mse = FALSE``): scale · Σ rscale_r (θ_r − θ̄)², θ̄ the mean of
the replicates with a positive rscale. Replicates are made from the design before any
calibration; ``sipas replicates --rake`` then rakes every replicate as the full sample (R's
``rake(as.svrepdesign(design), ...)``), so their spread includes calibration's effect.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.design import Design


@dataclass(frozen=True, eq=False)
class Replicates:
    """Multipliers per PSU (units × R), each row's PSU, and how to combine the replicates."""

    kind: str
    multipliers: np.ndarray
    unit: np.ndarray
    scale: float
    rscales: np.ndarray
    df: int

    def weights(self, base: np.ndarray) -> np.ndarray:
        """The (n × R) replicate weights: the design weight times the row's multiplier."""
        return base[:, None] * self.multipliers[self.unit]


def _check(design: Design) -> None:
    if design.calibrations:
        raise ValueError("replicate weights of a calibrated (raked or post-stratified) design "
                         "would need every replicate calibrated again: make them from the "
                         "design before calibration")


def _fraction(design: Design) -> np.ndarray:
    """Stage-1 sampling fraction per stratum (0 without an fpc)."""
    stage = design.stages[0]
    if design.popsize is None:
        return np.zeros(stage.n_parents)
    return 1.0 - stage.f


def jkn(design: Design) -> Replicates:
    """Delete-one-PSU jackknife within strata (R ``as.svrepdesign(type = "JKn")``)."""
    _check(design)
    stage = design.stages[0]
    sizes = stage.size[stage.parent]  # PSUs in each PSU's stratum
    lonely = np.flatnonzero(stage.size == 1)
    if lonely.size:
        if design.lonely_psu == "fail":
            raise ValueError(f"stratum {design.stratum_label(int(lonely[0]))} has only one "
                             "PSU: a jackknife cannot drop it (choose --lonely-psu remove "
                             "or certainty)")
        if design.lonely_psu not in ("remove", "certainty"):
            raise ValueError("replicate weights take --lonely-psu remove or certainty only")
    keep = np.flatnonzero(sizes > 1)  # one replicate per PSU of a stratum with two or more
    mult = np.ones((stage.n_units, keep.size))
    for r, psu in enumerate(keep):
        same = stage.parent == stage.parent[psu]
        mult[same, r] = sizes[psu] / (sizes[psu] - 1)
        mult[psu, r] = 0.0
    f = _fraction(design)[stage.parent[keep]]
    rscales = (1 - f) * (sizes[keep] - 1) / sizes[keep]
    return Replicates("jkn", mult, stage.unit, 1.0, rscales, design.degf())


def bootstrap(design: Design, replicates: int = 50, seed: int = 1) -> Replicates:
    """Canty–Davison bootstrap of PSUs within strata (R ``type = "bootstrap"``)."""
    _check(design)
    if replicates < 2:
        raise ValueError("--replicates must be at least 2")
    stage = design.stages[0]
    if (stage.size == 1).any():
        raise ValueError("a stratum with one PSU cannot be bootstrapped (merge it with a "
                         "neighbour)")
    rng = np.random.default_rng(seed)
    mult = np.zeros((stage.n_units, replicates))
    population = None
    if design.popsize is not None:
        population = np.rint(stage.size / np.maximum(1 - stage.f, 1e-300)).astype(int)
    for h in range(stage.n_parents):
        psus = np.flatnonzero(stage.parent == h)
        n_h = psus.size
        for r in range(replicates):
            if population is None:
                drawn = rng.integers(0, n_h, size=n_h)
            else:  # a pseudo-population of N_h PSUs, each sampled PSU repeated
                pool = np.resize(np.arange(n_h), population[h])
                drawn = pool[rng.choice(pool.size, size=n_h, replace=False)]
            mult[psus, r] = np.bincount(drawn, minlength=n_h)
    per_stratum = 1 / np.mean(1 / stage.size)
    scale = per_stratum / ((per_stratum - 1) * (replicates - 1))
    return Replicates("bootstrap", mult, stage.unit, float(scale), np.ones(replicates),
                      design.degf())


def replicate_variance(thetas: np.ndarray, scale: float, rscales: np.ndarray) -> np.ndarray:
    """R's ``svrVar`` (mse = FALSE): ``thetas`` is (R, k); one variance per column."""
    use = rscales > 0
    with np.errstate(invalid="ignore"):
        mean = thetas[use].mean(axis=0) if use.any() else np.full(thetas.shape[1], np.nan)
        return scale * ((thetas - mean) ** 2 * rscales[:, None]).sum(axis=0)


def ratio_replicates(rep_weights: np.ndarray, a: np.ndarray, b: np.ndarray,
                     inside: np.ndarray) -> np.ndarray:
    """θ_r = Σ w_r a / Σ w_r b over the rows ``inside``: (R,) replicate estimates."""
    w = rep_weights[inside]
    with np.errstate(invalid="ignore", divide="ignore"):
        return (a[inside] @ w) / (b[inside] @ w)
