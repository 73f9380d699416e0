"""Two app hosts (gunicorn each, the README's settings) behind a round-robin balancer, one
PostgreSQL and one Redis: nothing lost or stored twice, the flood limit counted once for
both, a session opened on one host valid on the other and ended on both.

The short CI variant of ``benchmarks/bench_two_hosts.py`` (same code, 3 s of load).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.support import unavailable

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from bench_two_hosts import LIMIT, run  # noqa: E402
from throwaway import BIN  # noqa: E402


def test_two_hosts_share_the_data_the_limits_and_the_sessions(
        request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("gunicorn", path=str(BIN)) is None:
        unavailable("gunicorn is not installed in this environment")
    pg = request.getfixturevalue("postgres_admin_url")
    if pg is None:
        unavailable("PostgreSQL is not reachable (set SIPAS_TEST_POSTGRES_URL)")
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    try:
        import redis

        client = redis.Redis.from_url(redis_url)
        client.ping()
        client.close()
    except Exception:  # noqa: BLE001 - any failure means no Redis to share
        unavailable(f"Redis is not reachable at {redis_url}")
    monkeypatch.setenv("REDIS_URL", redis_url)
    fig = run(pg, duration=3.0, clients=6)
    assert fig["integrity"]["accepted"] > 20
    assert fig["integrity"]["lost"] == 0 and fig["integrity"]["extra"] == 0
    assert fig["integrity"]["duplicates"] == 0 and fig["integrity"]["signals_missing"] == 0
    assert min(fig["per host"]) > 0.3 * sum(fig["per host"])  # both hosts served
    assert not {s for s in fig["load"]["statuses"] if s != 303}, fig["load"]["statuses"]
    assert fig["flood"] == {200: LIMIT, 429: LIMIT}  # one count for both hosts
    assert min(fig["flood per host"]) >= LIMIT - 1
    assert fig["sessions"] == {"login on A": 302, "staff page on B": 200, "logout on B": 302,
                               "staff page on A after": 302}
