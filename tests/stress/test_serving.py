"""Does the documented production server (survey/serving.py) stay up for genuine clients
while slow clients trickle requests, and refuse a set-up whose limits would not hold?"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.support import unavailable

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from throwaway import (  # noqa: E402
    BIN,
    REPO,
    free_port,
    gunicorn,
    instance_env,
    throwaway_instance,
)

PRODUCTION = ["-c", "python:survey.serving"]


@pytest.fixture(autouse=True)
def _gunicorn_installed() -> None:
    if shutil.which("gunicorn", path=str(BIN)) is None:
        unavailable("gunicorn is not installed in this environment")


def _redis_url() -> str:
    import redis

    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        unavailable(f"Redis is not reachable at {url}: {exc}")
    return url


def _trickle(port: int, head: bytes, stop: threading.Event, cut: list[float]) -> None:
    """A slow client: sends its request one byte at a time, twice a second."""
    started = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            for byte in head:
                if stop.is_set():
                    return
                s.sendall(bytes([byte]))
                time.sleep(0.5)
    except OSError:
        cut.append(time.monotonic() - started)  # the server hung up on it


def _head_lines(port: int, path: str) -> list[str]:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")


def _get(port: int, path: str) -> tuple[int, float]:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        status = int(s.recv(64).split()[1])
    return status, time.monotonic() - started


def test_slow_clients_do_not_starve_genuine_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", _redis_url())
    monkeypatch.setenv("SIPAS_REQUEST_SECONDS", "4")
    with throwaway_instance("sqlite", "", prefix="sipas-serving") as (folder, url):
        env = instance_env(folder, url)
        subprocess.run([str(BIN / "sipas"), "init"], env=env, cwd=REPO, check=True,
                       capture_output=True)
        port = free_port()
        with gunicorn(env, port, 4, PRODUCTION):
            stop, cut = threading.Event(), []
            body = b"POST /d/x HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n" + b"a" * 900
            heads = [body] * 16 + [b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X: y\r\n" * 40] * 8
            slow = [threading.Thread(target=_trickle, args=(port, h, stop, cut)) for h in heads]
            for thread in slow:
                thread.start()
            time.sleep(1.5)  # 24 connections now hold their requests open (3× what sank sync)
            genuine = [_get(port, "/healthz") for _ in range(10)] + [_get(port, "/auth/login")]
            head = _head_lines(port, "/")
            time.sleep(4)  # past the deadline: the server has cut them all off
            stop.set()
            for thread in slow:
                thread.join(timeout=10)
    assert [status for status, _ in genuine] == [200] * 11
    assert max(seconds for _, seconds in genuine) < 1.0, genuine
    assert len(cut) == len(heads) and max(cut) < 4 + 2.0, cut
    servers = [line for line in head if line.lower().startswith("server:")]
    assert servers == ["Server: SIPAS"], head  # no "gunicorn" version banner


def test_several_workers_without_shared_counters_refuse_to_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    with throwaway_instance("sqlite", "", prefix="sipas-serving") as (folder, url):
        env = instance_env(folder, url, keep_redis=False)
        subprocess.run([str(BIN / "sipas"), "init"], env=env, cwd=REPO, check=True,
                       capture_output=True)
        done = subprocess.run(
            [str(BIN / "gunicorn"), *PRODUCTION, "-w", "2", "-b", f"127.0.0.1:{free_port()}",
             "survey.app:create_app()"], env=env, cwd=REPO, capture_output=True, text=True,
            timeout=60)
    assert done.returncode != 0
    assert "REDIS_URL" in done.stderr and "Traceback" not in done.stderr


def test_a_production_worker_loads_the_reports_libraries_before_serving(tmp_path: Path) -> None:
    """The first analyst a worker serves does not wait for matplotlib and the engine: the
    worker loads them (and draws one chart) before it takes requests, and says so."""
    import os

    log = tmp_path / "error.log"
    with throwaway_instance("sqlite", "", prefix="sipas-serving") as (folder, url):
        env = {**instance_env(folder, url, keep_redis=False), "SIPAS_WARM_UP": "1"}
        subprocess.run([str(BIN / "sipas"), "init"], env=env, cwd=REPO, check=True,
                       capture_output=True)
        with gunicorn(env, free_port(), 1, [*PRODUCTION, "--error-logfile", str(log)]):
            text = log.read_text()
    assert "reports warmed up in" in text, text[-2000:]
    # `sipas init` publishes the household and desk questionnaires: both parsed ahead; and
    # every page template is compiled ahead
    pages = len(list((REPO / "survey" / "templates").rglob("*.html")))
    found = re.search(rf"warmed up in [\d.]+ s \(2 questionnaires parsed, {pages} templates "
                      r"compiled, (\d+) objects set aside from garbage collection\)", text)
    assert found and int(found.group(1)) > 10_000, text[-2000:]  # what it loaded, frozen
    assert os.environ.get("SIPAS_WARM_UP") == "0"  # the other test servers skip it
