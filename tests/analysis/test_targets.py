"""Do the target verdict and the one-sided p-value always agree?"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.ci import intervals
from analysis.targets import verdicts


@settings(max_examples=300, deadline=None)
@given(
    p=st.floats(0.01, 0.99), se=st.floats(0.001, 0.2), df=st.integers(1, 500),
    n=st.integers(5, 5000), target=st.floats(0.05, 0.95),
    method=st.sampled_from(["logit", "mean", "asin", "beta"]),
    level=st.sampled_from([0.9, 0.95, 0.99]),
)
def test_verdict_is_above_or_below_exactly_when_p_is_small(p, se, df, n, target, method, level):
    arr = [np.array([x], dtype=float) for x in (p, se, df, n)]
    ci = intervals(*arr, method=method, level=level)
    v = verdicts(*arr, ci.low, ci.high, target, method, level)
    decided = v.verdict[0] in ("above", "below")
    assert decided == (v.p_value[0] <= (1 - level) / 2)
    if v.verdict[0] == "above":
        assert ci.low[0] >= target
    if v.verdict[0] == "below":
        assert ci.high[0] < target


def test_no_ci_means_no_verdict():
    ci = intervals(np.array([1.0]), np.array([0.0]), np.array([3]), np.array([10]))
    assert np.isnan(ci.low[0]) and "p̂ = 0 or 1" in ci.note[0]
    v = verdicts(np.array([1.0]), np.array([0.0]), np.array([3]), np.array([10]), ci.low,
                 ci.high, 0.8, "logit", 0.95)
    assert v.verdict[0] is None and np.isnan(v.p_value[0])


def test_beta_at_one_still_gives_an_interval_with_n_eff_n():
    ci = intervals(np.array([1.0]), np.array([0.0]), np.array([20]), np.array([30]),
                   method="beta")
    assert ci.high[0] == 1.0 and 0.8 < ci.low[0] < 1.0


def test_df_zero_gives_no_ci_and_says_why():
    ci = intervals(np.array([0.5]), np.array([0.1]), np.array([0]), np.array([10]))
    assert np.isnan(ci.low[0]) and "df ≤ 0" in ci.note[0]


def test_a_logit_interval_far_in_the_tail_is_a_bound_not_a_warning() -> None:
    """Hypothesis found this: exp() overflowed (a RuntimeWarning, an error under -W error)."""
    ci = intervals(np.array([0.01]), np.array([0.125]), np.array([1]), np.array([5]),
                   "logit", 0.99)
    assert 0.0 <= ci.low[0] < 0.01 < ci.high[0] <= 1.0
