"""Under re-sends, racing double taps and SIGKILLed workers, is every acknowledged
evaluation stored exactly once, unaltered, with no canary in the logs?

The short CI variant of ``benchmarks/stress_submissions.py`` (same code, 112 evaluations
from 16 phones, a worker killed every 0.5–0.8 s, eight at most; each phone fetches a fresh form per
evaluation, so a kill lands on a GET as often as on a POST) on SQLite and PostgreSQL.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tests.support import unavailable

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from stress_submissions import BIN, run  # noqa: E402


@pytest.fixture(autouse=True)
def _gunicorn_installed() -> None:
    if shutil.which("gunicorn", path=str(BIN)) is None:
        unavailable("gunicorn is not installed in this environment")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_killed_workers_lose_and_double_nothing(
    backend: str, request: pytest.FixtureRequest
) -> None:
    pg = ""
    if backend == "postgresql":
        pg = request.getfixturevalue("postgres_admin_url")
        if pg is None:
            unavailable("PostgreSQL is not reachable (set SIPAS_TEST_POSTGRES_URL)")
    # kills every 0.5-0.8 s from the start (a fast run ends in 2 s), at most eight: killing
    # faster than workers boot stalled a slow machine's run for 97 s
    fig = run(backend, 112, 16, workers=3, desks=2, kill_every=(0.5, 0.8), max_seconds=120,
              max_kills=8, **({"pg_admin_url": pg} if pg else {}))
    assert fig.kills >= 2, "the saboteur must actually have killed workers"
    assert fig.acknowledged == fig.evaluations == 112
    assert fig.lost == 0 and fig.duplicates == 0 and fig.altered == 0
    assert fig.stored == 112 and fig.unacknowledged == 0
    assert not {s for s in fig.statuses if s not in (0, 303)}, fig.statuses
    assert fig.requests > fig.evaluations  # the re-sends really happened
    assert fig.leaks == 0
    assert fig.integrity == ("ok" if backend == "sqlite" else "n/a")
