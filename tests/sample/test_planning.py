"""Does the planner give the classic optimum take and just enough hamlets for the margin?"""

from __future__ import annotations

import math

import numpy as np
import pytest

from survey.services.sample.planning import halfwidth, optimum_take, plan_design, rho_from_design


def test_the_optimum_take_is_the_textbook_formula() -> None:
    # Kish (1965) §8.3: c1/c2 = 10, rho = 0.05 -> m = sqrt(10 * 0.95 / 0.05) = 13.78
    assert optimum_take(10, 0.05) == pytest.approx(math.sqrt(190), rel=1e-12)
    with pytest.raises(ValueError, match="ρ must be in"):
        optimum_take(10, 0)
    with pytest.raises(ValueError, match="cost ratio"):
        optimum_take(-1, 0.1)


def test_each_stratum_gets_the_fewest_hamlets_that_reach_the_margin() -> None:
    plan = plan_design({"A": 500, "B": 40}, moe=0.05, rho=0.05, cost_ratio=10, p=0.5)
    assert plan.deff == pytest.approx(1 + 13 * 0.05)
    a = plan.strata[0]
    assert a.completed_per_hamlet == 14 and a.df == a.hamlets - 1
    assert a.ci95_halfwidth <= 0.05 + 1e-12
    fewer = halfwidth(0.5, plan.deff, (a.hamlets - 1) * 14, a.hamlets - 2, 0.95)
    assert fewer > 0.05
    assert a.ci80_halfwidth < a.ci95_halfwidth
    assert a.issued_per_hamlet == math.ceil(14 / 0.85) and a.note is None
    b = plan.strata[1]
    assert b.hamlets == 40 and "frame has 40" in (b.note or "")


def test_rho_is_recovered_from_a_previous_round_through_the_engine() -> None:
    """Hamlets all-or-nothing: deff ≈ m̄ and ρ ≈ 1; independent answers: ρ near 0."""
    rng = np.random.default_rng(4)
    psu = np.repeat(np.arange(40), 20).astype(str)
    strata = np.repeat(np.arange(4), 200).astype(str)
    w = np.ones(800)
    clustered = np.repeat(rng.integers(0, 2, 40), 20).astype(float)
    rho, deff = rho_from_design(clustered, w, strata, psu)
    assert rho > 0.8 and deff > 15
    independent = rng.integers(0, 2, 800).astype(float)
    rho0, _ = rho_from_design(independent, w, strata, psu)
    assert rho0 < 0.05
