"""Do rank intervals hold the true rank as often as they say, and say plainly which areas
cannot be told apart?

The hand example is worked out below from the definition; the coverage test draws
estimates around a known truth (34 provinces, close together, as the national index is)
and counts how often each interval holds the true rank: the short variant of
``benchmarks/sim_ranking.py``.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import stats

from analysis.ranking import rank_coverage, rank_intervals


def test_a_worked_example_by_hand() -> None:
    # K = 3, each area's interval at 95%: Bonferroni over K − 1 = 2 comparisons,
    # z = Φ⁻¹(1 − 0.05/4) = 2.2414. A − B = 0.10, SE √(0.01² + 0.05²) = 0.0510, half-width
    # 0.1143: not clear. A − C = 0.40 (SE 0.0141) and B − C = 0.30 (SE 0.0510): clear.
    z = stats.norm.ppf(1 - 0.05 / 4)
    assert math.isclose(z, 2.241403, abs_tol=1e-6)
    result = rank_intervals(["A", "B", "C"], np.array([0.9, 0.8, 0.5]),
                            np.array([0.01, 0.05, 0.01]))
    got = {a.area: (a.rank, a.lower, a.upper, a.not_apart) for a in result.areas}
    assert got == {"A": (1, 1, 2, ("B",)), "B": (2, 1, 2, ("A",)), "C": (3, 3, 3, ())}
    assert [a.area for a in result.areas] == ["A", "B", "C"]


def test_joint_intervals_are_never_narrower_and_ties_share_a_rank() -> None:
    rng = np.random.default_rng(4)
    est, se = rng.normal(0.8, 0.04, 20), rng.uniform(0.005, 0.02, 20)
    est[3] = est[7]  # a tie
    names = [f"P{i}" for i in range(20)]
    each = {a.area: a for a in rank_intervals(names, est, se).areas}
    together = {a.area: a for a in rank_intervals(names, est, se, joint=True).areas}
    for name in names:
        assert together[name].lower <= each[name].lower <= each[name].rank
        assert each[name].rank <= each[name].upper <= together[name].upper
    assert each["P3"].rank == each["P7"].rank


def test_a_shared_sample_narrows_the_difference() -> None:
    # two estimates from one sample, positively correlated: their difference is surer
    est, se = np.array([0.82, 0.80]), np.array([0.01, 0.01])
    apart = rank_intervals(["a", "b"], est, se, covariance=np.array([[1e-4, 0.9e-4],
                                                                      [0.9e-4, 1e-4]]))
    alone = rank_intervals(["a", "b"], est, se)
    assert [(a.lower, a.upper) for a in alone.areas] == [(1, 2), (1, 2)]
    assert [(a.lower, a.upper) for a in apart.areas] == [(1, 1), (2, 2)]


@pytest.mark.parametrize("args, words", [
    ((["a"], [0.8], [0.01]), "at least two"),
    ((["a", "a"], [0.8, 0.7], [0.01, 0.01]), "same name"),
    ((["a", "b"], [0.8, np.nan], [0.01, 0.01]), "finite estimate"),
    ((["a", "b"], [0.8, 0.7], [0.01, -1]), "non-negative SE"),
    ((["a", "b", "c"], [0.8, 0.7], [0.01, 0.01]), "one name"),
])
def test_bad_input_is_refused_in_words(args: tuple, words: str) -> None:
    names, est, se = args
    with pytest.raises(ValueError, match=words):
        rank_intervals(names, np.array(est, dtype=float), np.array(se, dtype=float))


def test_the_intervals_hold_the_true_rank_at_least_as_often_as_they_say() -> None:
    # 34 provinces within 12 points of each other, SEs of 1 to 3 points (as one round gives)
    rng = np.random.default_rng(2025)
    truth = np.sort(rng.uniform(0.76, 0.88, 34))
    ses = rng.uniform(0.01, 0.03, 34)
    each, _ = rank_coverage(truth, ses, reps=150, seed=7)
    assert each.min() >= 0.93, each.min()  # 0.95 less three Monte Carlo SEs at 150 draws
    _, together = rank_coverage(truth, ses, reps=150, joint=True, seed=8)
    assert together >= 0.93
    # so close, most provinces cannot be told apart: the intervals say so (about 31 of 34
    # ranks) rather than print a league table that is noise
    close = [a.upper - a.lower + 1 for a in rank_intervals(
        [str(i) for i in range(34)], truth, ses).areas]
    assert np.mean(close) > 25
    # spread over 22 points with 0.5–1 point SEs, they narrow to about 10 ranks
    rng = np.random.default_rng(3)
    spread, precise = np.sort(rng.uniform(0.70, 0.92, 34)), rng.uniform(0.005, 0.01, 34)
    widths = [a.upper - a.lower + 1 for a in rank_intervals(
        [str(i) for i in range(34)], spread, precise).areas]
    assert np.mean(widths) < 12
    each, _ = rank_coverage(spread, precise, reps=150, seed=9)
    assert each.min() >= 0.93


def test_the_command_ranks_one_indicator_of_an_index_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from analysis.cli_rank import rank_command

    data = tmp_path / "provinces.csv"
    data.write_text("indicator,level,domain,estimate,se\n"
                    "SIPAS,overall,Tây Ninh,0.90,0.01\nSIPAS,overall,Cà Mau,0.80,0.05\n"
                    "SIPAS,overall,Lai Châu,0.50,0.01\nII,element,Tây Ninh,0.70,0.02\n"
                    "SIPAS,overall,,0.81,0.01\n",  # the whole: not ranked
                    encoding="utf-8")
    runner = CliRunner()
    args = [str(data), "--area", "domain", "--estimate", "estimate", "--se", "se",
            "--where", "level=overall"]
    table = runner.invoke(rank_command, args)
    assert table.exit_code == 0, table.output
    assert "1–2" in table.output and "Cà Mau" in table.output and "Klein" in table.output
    made = json.loads(runner.invoke(rank_command, [*args, "--format", "json"]).output)
    assert [(a["area"], a["rank_low"], a["rank_high"]) for a in made["areas"]] == [
        ("Tây Ninh", 1, 2), ("Cà Mau", 1, 2), ("Lai Châu", 3, 3)]
    assert made["areas"][0]["not_apart"] == ["Cà Mau"]
    as_csv = runner.invoke(rank_command, [*args, "--format", "csv"]).output.splitlines()
    assert as_csv[0].startswith("rank,rank_low,rank_high,area") and len(as_csv) == 4
    for extra, words in ((["--where", "level"], "COLUMN=VALUE"),
                         (["--where", "level=none"], "no row to rank"),
                         (["--where", "indicator=SIPAS", "--where", "nope=1"], "no column"),
                         ([], "appears twice")):
        base = args[:-2] if extra else args[:-2]
        bad = runner.invoke(rank_command, [*base, *extra])
        assert bad.exit_code != 0 and words in bad.output, (extra, bad.output)
        assert "Traceback" not in bad.output
