"""Sample size for estimating a proportion (a SIPAS index) to a target margin of error.

Why each step (DESIGN.md §4), applied in this order:

1. ``n0 = deff · z² · p(1 − p) / e²`` — the simple-random-sample size for margin ``e`` at
   level ``level``, times the design effect of clustering and weighting.
2. Finite population: ``n = n0 / (1 + (n0 − 1) / N)`` — matters for small communes or
   desk populations only.
3. Few PSUs: a province's estimate rests on K hamlets in H strata, so its CI uses
   ``t_{K−H}`` instead of ``z``; the margin stays at ``e`` only if n grows by
   ``(t_{K−H} / z)²``.  The df ``K − H`` is R's ``degf()`` of the planned design; it depends
   on the number of PSUs, not on n, so no iteration is needed (add PSUs, not
   respondents, to shrink it).
4. Response rate: issue ``n / RR`` questionnaires so that ``n`` come back completed.

Sizes are rounded up at the end only (``completed`` and ``issued``), so the printed steps
can be checked by hand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats


@dataclass(frozen=True)
class PlanStep:
    """One step of the calculation, as printed for the analyst."""

    key: str
    label_vi: str
    label_en: str
    formula: str
    value: float


@dataclass(frozen=True)
class SamplePlan:
    """The inputs, each step, and the rounded sizes to complete and to issue."""

    moe: float
    p: float
    deff: float
    level: float
    z: float
    response_rate: float
    population: float | None
    psus: int | None
    strata: int | None
    df: int | None
    t: float | None
    steps: tuple[PlanStep, ...]
    completed: int
    issued: int
    per_psu: int | None
    note: str | None


def _ceil(x: float) -> int:
    """Round up, ignoring float noise (1068.0000000001 is 1068)."""
    return math.ceil(round(x, 9))


def _check(
    moe: float, p: float, deff: float, level: float, response_rate: float,
    population: float | None, psus: int | None, strata: int | None,
) -> None:
    if not 0 < moe < 1:
        raise ValueError(f"margin of error must be between 0 and 1 (e.g. 0.03), got {moe}")
    if not 0 < p < 1:
        raise ValueError(f"expected proportion p must be strictly between 0 and 1, got {p}")
    if not deff > 0 or not math.isfinite(deff):
        raise ValueError(f"design effect must be positive, got {deff}")
    if not 0 < level < 1:
        raise ValueError(f"confidence level must be between 0 and 1 (e.g. 0.95), got {level}")
    if not 0 < response_rate <= 1:
        raise ValueError(f"response rate must be in (0, 1], got {response_rate}")
    if population is not None and not (math.isfinite(population) and population >= 1):
        raise ValueError(f"population size must be at least 1, got {population}")
    if (psus is None) != (strata is None):
        raise ValueError("give both the number of PSUs and the number of strata, or neither")
    if psus is not None and strata is not None:
        if strata < 1:
            raise ValueError(f"number of strata must be at least 1, got {strata}")
        if psus <= strata:
            raise ValueError(
                f"{psus} PSUs in {strata} strata leave {psus - strata} degrees of freedom: "
                "plan more PSUs than strata (at least 2 per stratum)"
            )


def plan_sample_size(
    moe: float,
    p: float = 0.5,
    deff: float = 1.0,
    *,
    level: float = 0.95,
    response_rate: float = 1.0,
    population: float | None = None,
    psus: int | None = None,
    strata: int | None = None,
) -> SamplePlan:
    """Questionnaires to complete and to issue for margin ``moe`` on a proportion near ``p``."""
    _check(moe, p, deff, level, response_rate, population, psus, strata)
    z = float(stats.norm.ppf(1 - (1 - level) / 2))
    n = deff * z**2 * p * (1 - p) / moe**2
    steps = [PlanStep(
        "srs_deff", "Cỡ mẫu cơ bản × hệ số thiết kế", "basic size × design effect",
        f"n0 = deff·z²·p(1−p)/e² = {deff:g} × {z:.6f}² × {p:g} × {1 - p:g} / {moe:g}²", n,
    )]
    if population is not None:
        before, n = n, n / (1 + (n - 1) / population)
        steps.append(PlanStep(
            "fpc", "Hiệu chỉnh tổng thể hữu hạn", "finite population correction",
            f"n0 / (1 + (n0 − 1)/N) = {before:.2f} / (1 + {before - 1:.2f} / {population:g})", n,
        ))
    df = t = None
    if psus is not None and strata is not None:
        df = psus - strata
        t = float(stats.t.ppf(1 - (1 - level) / 2, df))
        factor = (t / z) ** 2
        before, n = n, n * factor
        steps.append(PlanStep(
            "few_psu", "Ít đơn vị mẫu cấp 1 (t thay z)", "few PSUs (t instead of z)",
            f"× (t_df/z)², df = K − H = {psus} − {strata} = {df}: "
            f"{before:.2f} × ({t:.6f} / {z:.6f})² = {before:.2f} × {factor:.6f}", n,
        ))
    completed = _ceil(n)
    issued_exact = n / response_rate
    if response_rate < 1:
        steps.append(PlanStep(
            "response", "Chia cho tỷ lệ trả lời", "divide by the response rate",
            f"{n:.2f} / {response_rate:g}", issued_exact,
        ))
    issued = _ceil(issued_exact)
    note = None
    if population is not None and issued > population:
        note = "more questionnaires than the population: survey everyone (census)"
    return SamplePlan(
        moe=moe, p=p, deff=deff, level=level, z=z, response_rate=response_rate,
        population=population, psus=psus, strata=strata, df=df, t=t, steps=tuple(steps),
        completed=completed, issued=issued,
        per_psu=_ceil(issued / psus) if psus else None, note=note,
    )
