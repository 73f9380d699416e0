"""Does PPS systematic selection give every hamlet exactly its inclusion probability?"""

from __future__ import annotations

import math
import random

import pytest

from survey.services.sample.pps import inclusion_probabilities, pps_systematic, stratum_rng

SIZES = [120, 640, 75, 300, 410, 95, 230, 510, 60, 180, 350, 1500]


def test_each_hamlet_is_selected_as_often_as_its_probability_says() -> None:
    """20,000 draws with different seeds: each frequency within 4 SE of π (two-sided)."""
    n, draws = 4, 20_000
    probs = inclusion_probabilities(SIZES, n)
    hits = [0] * len(SIZES)
    for seed in range(draws):
        for i in pps_systematic(SIZES, n, random.Random(seed)):
            hits[i] += 1
    for i, pi in enumerate(probs.pi):
        se = math.sqrt(pi * (1 - pi) / draws) if pi < 1 else 0.0
        assert abs(hits[i] / draws - pi) <= 4 * se + 1e-12, (i, hits[i] / draws, pi)


def test_a_large_hamlet_is_taken_with_certainty_and_the_rest_share_n_minus_one() -> None:
    probs = inclusion_probabilities(SIZES, 4)
    assert probs.certainty == tuple(x == 1500 for x in SIZES)
    rest = sum(x for x in SIZES if x != 1500)
    for x, pi in zip(SIZES, probs.pi, strict=True):
        assert pi == pytest.approx(1.0 if x == 1500 else 3 * x / rest, rel=1e-12)
    assert sum(probs.pi) == pytest.approx(4)


def test_certainty_is_iterative_when_removing_one_pushes_another_over_one() -> None:
    probs = inclusion_probabilities([100, 90, 10, 10, 10], 3)
    assert probs.certainty == (True, True, False, False, False)
    assert probs.pi[2:] == pytest.approx((1 / 3, 1 / 3, 1 / 3))


def test_a_lower_certainty_threshold_takes_more_units_for_sure() -> None:
    default = inclusion_probabilities(SIZES, 4)
    lowered = inclusion_probabilities(SIZES, 4, threshold=0.5)
    assert sum(lowered.certainty) > sum(default.certainty)
    assert sum(lowered.pi) == pytest.approx(4)
    chosen = pps_systematic(SIZES, 4, random.Random(1), threshold=0.5)
    assert all(i in chosen for i, c in enumerate(lowered.certainty) if c)


def test_the_same_seed_draws_the_same_hamlets_and_strata_are_independent() -> None:
    first = pps_systematic(SIZES, 4, stratum_rng(42, "9001"))
    assert first == pps_systematic(SIZES, 4, stratum_rng(42, "9001"))
    draws = {tuple(pps_systematic(SIZES, 4, stratum_rng(s, "9001"))) for s in range(30)}
    assert len(draws) > 5
    assert stratum_rng(42, "9001").random() != stratum_rng(42, "9002").random()


def test_exactly_n_distinct_units_are_drawn_every_time() -> None:
    for seed in range(500):
        chosen = pps_systematic(SIZES, 5, random.Random(seed))
        assert len(chosen) == len(set(chosen)) == 5


@pytest.mark.parametrize(
    ("sizes", "n", "threshold", "message"),
    [
        ([1, 2, 3], 0, 1.0, "at least 1"),
        ([1, 2, 3], 4, 1.0, "cannot draw 4 units from 3"),
        ([1, 0, 3], 2, 1.0, "positive"),
        ([1, 2, 3], 2, 0.0, "threshold"),
    ],
)
def test_bad_inputs_are_refused_with_a_reason(
    sizes: list[int], n: int, threshold: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        inclusion_probabilities(sizes, n, threshold)
