"""The sample-size planner (analysis/plan.py) and ``sipas plan`` (analysis/cli_plan.py).

Expected sizes are worked by hand below, with the quantiles from R:
qnorm(0.975) = 1.959963984540054, qt(0.975, 15) = 2.131449545559775,
qt(0.975, 17) = 2.109815577833317, qnorm(0.95) = 1.644853626951472.
Tolerance: relative 1e-9 on the unrounded steps, exact on the rounded sizes.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
from click.testing import CliRunner, Result

from analysis.cli_plan import plan_command
from analysis.plan import plan_sample_size

Z95 = 1.959963984540054  # R: qnorm(0.975)
T15 = 2.131449545559775  # R: qt(0.975, 15)
T17 = 2.109815577833317  # R: qt(0.975, 17)
Z90 = 1.644853626951472  # R: qnorm(0.95)

# moe 0.03, p 0.8, deff 1.5: n0 = 1.5 · 3.8414588 · 0.16 / 0.0009 = 1024.389...
N0 = 1.5 * Z95**2 * 0.8 * 0.2 / 0.03**2


def test_is_the_basic_size_deff_z2_pq_over_e2_rounded_up() -> None:
    plan = plan_sample_size(0.03, 0.8, 1.5)
    assert N0 == pytest.approx(1024.3890188517, rel=1e-9)
    assert plan.steps[0].value == pytest.approx(N0, rel=1e-9)
    assert plan.z == pytest.approx(Z95, rel=1e-12)
    assert (plan.completed, plan.issued) == (1025, 1025)  # up from 1024.39, not to nearest


def test_does_every_step_follow_the_hand_calculation() -> None:
    """N = 50 000, K = 18 hamlets in H = 3 districts, 80% response."""
    plan = plan_sample_size(0.03, 0.8, 1.5, population=50_000, psus=18, strata=3,
                            response_rate=0.8)
    fpc = N0 / (1 + (N0 - 1) / 50_000)  # 1024.389 / 1.0204678 = 1003.843
    few = fpc * (T15 / Z95) ** 2  # df = 18 − 3 = 15; × 1.182644 = 1187.19
    issued = few / 0.8  # 1483.99
    assert [s.key for s in plan.steps] == ["srs_deff", "fpc", "few_psu", "response"]
    got = [s.value for s in plan.steps]
    assert got == pytest.approx([N0, fpc, few, issued], rel=1e-9)
    assert fpc == pytest.approx(1003.843, abs=1e-3) and few == pytest.approx(1187.19, abs=1e-2)
    assert (plan.df, plan.completed, plan.issued, plan.per_psu) == (15, 1188, 1484, 83)


def test_does_the_confidence_level_change_z() -> None:
    plan = plan_sample_size(0.05, 0.5, 1.0, level=0.90)
    # 1.6448536² · 0.25 / 0.0025 = 270.55 → 271
    assert plan.steps[0].value == pytest.approx(Z90**2 * 0.25 / 0.0025, rel=1e-9)
    assert plan.completed == 271


def test_is_a_census_flagged_when_the_population_is_small() -> None:
    plan = plan_sample_size(0.03, 0.5, 2.0, population=300, response_rate=0.5)
    assert plan.issued > 300 and "census" in (plan.note or "")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"moe": 0}, "margin of error"),
        ({"moe": 1}, "margin of error"),
        ({"moe": 0.03, "p": 0}, "proportion p"),
        ({"moe": 0.03, "p": 1.2}, "proportion p"),
        ({"moe": 0.03, "deff": 0}, "design effect"),
        ({"moe": 0.03, "response_rate": 0}, "response rate"),
        ({"moe": 0.03, "response_rate": 1.5}, "response rate"),
        ({"moe": 0.03, "population": 0}, "population size"),
        ({"moe": 0.03, "psus": 3, "strata": 3}, "3 PSUs in 3 strata leave 0 degrees"),
        ({"moe": 0.03, "psus": 5}, "both the number of PSUs and the number of strata"),
        ({"moe": 0.03, "level": 1}, "confidence level"),
    ],
)
def test_is_bad_input_refused_with_a_precise_message(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan_sample_size(**kwargs)


def run(*args: str) -> Result:
    return CliRunner().invoke(plan_command, list(args))


def test_does_the_table_show_each_step_in_both_languages() -> None:
    result = run("--moe", "0.03", "--p", "0.8", "--deff", "1.5", "--response-rate", "0.8",
                 "--population", "50000", "--psus", "18", "--strata", "3")
    assert result.exit_code == 0, result.output
    out = result.output
    for text in ("Sai số biên / margin of error", "Hiệu chỉnh tổng thể hữu hạn",
                 "few PSUs", "df = K − H = 18 − 3 = 15", "= 1024.39", "= 1003.84",
                 "= 1187.19", "1187.19 / 0.8 = 1483.99", "Số phiếu cần phát"):
        assert text in out, text
    assert out.rstrip().splitlines()[-1].split()[-1] == "83"


def test_does_json_carry_the_rounded_sizes_and_steps() -> None:
    result = run("--moe", "0.03", "--p", "0.8", "--deff", "1.5", "--format", "json")
    payload = json.loads(result.output)
    assert (payload["completed"], payload["issued"]) == (1025, 1025)
    assert payload["steps"][0]["value"] == pytest.approx(N0, rel=1e-9)


def test_do_psus_without_strata_mean_one_stratum() -> None:
    payload = json.loads(run("--moe", "0.05", "--psus", "18", "--format", "json").output)
    # df = 18 − 1 = 17: 384.146 × (2.109816 / 1.959964)² = 445.13 → 446
    assert payload["df"] == 17
    assert payload["completed"] == math.ceil(Z95**2 * 0.25 / 0.0025 * (T17 / Z95) ** 2)
    assert payload["completed"] == 446


@pytest.mark.parametrize(
    "args",
    [
        ["--moe", "0"],
        ["--moe", "1.5"],
        ["--moe", "0.03", "--p", "1"],
        ["--moe", "0.03", "--response-rate", "0"],
        ["--moe", "0.03", "--psus", "3", "--strata", "4"],
        ["--moe", "abc"],
        [],
    ],
)
def test_does_bad_input_give_one_line_and_a_nonzero_exit(args: list[str]) -> None:
    result = run(*args)
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "Traceback" not in result.output


def test_does_sipas_plan_run_without_flask_or_sqlmodel() -> None:
    """Through the real `sipas` group, in a fresh interpreter, checking sys.modules."""
    code = (
        "import sys\n"
        "from survey.cli import main\n"
        "try:\n"
        "    main(['plan', '--moe', '0.03', '--p', '0.8', '--deff', '1.5'])\n"
        "except SystemExit as e:\n"
        "    assert e.code in (0, None), e.code\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlmodel'))\n"
        "print('LOADED', bad)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "1025" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "LOADED []"
