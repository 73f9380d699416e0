"""Planning a round: hamlets per stratum and respondents per hamlet for a target margin.

The cost of a round is ``C = K·c₁ + K·m·c₂`` (c₁ reaching a hamlet, c₂ one interview); the
variance of a proportion is ``p(1−p)/(K·m) · (1 + (m−1)ρ)`` with ρ the intra-hamlet
correlation. Minimising one for the other gives the classic optimum take per hamlet
``m = √(c₁/c₂ · (1−ρ)/ρ)`` (Kish 1965, §8.3), independent of the budget; the number of
hamlets then follows from the margin of error through :func:`analysis.plan.plan_sample_size`
with ``deff = 1 + (m−1)ρ`` and the few-PSU t correction (df = K − 1 per stratum), iterated
because K sets the df. ρ may be assumed or estimated from a previous round:
``ρ̂ = (deff − 1)/(m̄ − 1)`` from the analysis engine's design effect.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats
from sqlmodel import Session

from analysis.design import make_design
from analysis.estimate import mean
from analysis.plan import plan_sample_size

MAX_HAMLETS = 10_000
RHO_FLOOR = 0.001


@dataclass(frozen=True)
class StratumPlan:
    stratum: str
    frame_hamlets: int
    hamlets: int
    completed_per_hamlet: int
    issued_per_hamlet: int
    df: int
    ci80_halfwidth: float
    ci95_halfwidth: float
    note: str | None


@dataclass(frozen=True)
class DesignPlan:
    rho: float
    cost_ratio: float
    optimum_take: float
    deff: float
    response_rate: float
    strata: tuple[StratumPlan, ...]


def optimum_take(cost_ratio: float, rho: float) -> float:
    """Respondents per hamlet minimising variance for a cost: √(c₁/c₂ · (1−ρ)/ρ)."""
    if not cost_ratio > 0:
        raise ValueError(f"the cost ratio c₁/c₂ must be positive, got {cost_ratio}")
    if not 0 < rho < 1:
        raise ValueError(f"the intra-hamlet correlation ρ must be in (0, 1), got {rho}")
    return math.sqrt(cost_ratio * (1 - rho) / rho)


def halfwidth(p: float, deff: float, n: int, df: int, level: float) -> float:
    """Expected CI half-width of a proportion: t_df · √(deff · p(1−p) / n)."""
    t = float(stats.t.ppf(1 - (1 - level) / 2, df))
    return t * math.sqrt(deff * p * (1 - p) / n)


def plan_design(
    frame_hamlets: Mapping[str, int],
    *,
    moe: float,
    rho: float,
    cost_ratio: float,
    response_rate: float = 0.85,
    p: float = 0.5,
    level: float = 0.95,
) -> DesignPlan:
    """Hamlets per stratum and takes per hamlet so each stratum reaches margin ``moe``."""
    m_opt = optimum_take(cost_ratio, rho)
    m = max(2, round(m_opt))
    deff = 1 + (m - 1) * rho
    plans = []
    for stratum, available in frame_hamlets.items():
        k = 2  # the smallest K whose own df gives a size that K hamlets of m can carry
        while k < MAX_HAMLETS:
            plan = plan_sample_size(moe, p, deff, level=level, response_rate=1.0,
                                    psus=k, strata=1)
            if math.ceil(plan.completed / m) <= k:
                break
            k += 1
        note = None
        if k > available:
            note = f"needs {k} hamlets but the frame has {available}: all taken, margin wider"
            k = available
        df = max(k - 1, 1)
        n = k * m
        plans.append(StratumPlan(
            stratum, available, k, m, math.ceil(m / response_rate), k - 1,
            halfwidth(p, deff, n, df, 0.80), halfwidth(p, deff, n, df, 0.95), note,
        ))  # fmt: skip
    return DesignPlan(rho, cost_ratio, m_opt, deff, response_rate, tuple(plans))


def rho_from_design(
    y: np.ndarray, weights: np.ndarray, strata: np.ndarray, psu: np.ndarray
) -> tuple[float, float]:
    """(ρ̂, deff) of a 0/1 indicator from a previous round, through the analysis engine."""
    ok = ~np.isnan(y)
    if ok.sum() < 2:
        raise ValueError("too few answers in the previous round to estimate ρ")
    design = make_design(len(y), weights=weights, strata=strata, clusters=[psu], nest=True)
    deff = float(mean(design, y).deff[0, 0])
    _, per_psu = np.unique(psu[ok], return_counts=True)
    m_bar = float(per_psu.mean())
    if m_bar <= 1:
        raise ValueError("one respondent per hamlet: ρ cannot be estimated")
    return max(RHO_FLOOR, (deff - 1) / (m_bar - 1)), deff


def rho_from_round(
    session: Session, round_code: str, item_code: str, satisfied: tuple[int, ...] = (4, 5)
) -> tuple[float, float]:
    """ρ̂ and deff of "satisfied with ``item_code``" among a round's weighted respondents."""
    from sqlmodel import select

    from survey.models import Answer, Response
    from survey.services.sample.rounds import get_round

    round_ = get_round(session, round_code)
    rows = session.exec(
        select(Response.weight, Response.stratum, Response.psu, Answer.value_num)
        .join(Answer, (Answer.response_id == Response.id)  # type: ignore[arg-type]
              & (Answer.item_code == item_code), isouter=True)
        .where(Response.round_id == round_.id, Response.weight.is_not(None),  # type: ignore[union-attr]
               Response.status == "verified")
    ).all()
    if not rows:
        raise ValueError(f"round {round_code!r} has no weighted respondents: compute its weights")
    y = np.array([np.nan if v is None or not 1 <= v <= 5 else float(v in satisfied)
                  for _, _, _, v in rows])
    if np.isnan(y).all():
        raise ValueError(f"no answers 1–5 to {item_code!r} in round {round_code!r}")
    return rho_from_design(y, np.array([r[0] for r in rows], dtype=float),
                           np.array([r[1] for r in rows], dtype=object),
                           np.array([r[2] for r in rows], dtype=object))
