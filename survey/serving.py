"""The production server: gunicorn settings a province runs with.

    gunicorn -c python:survey.serving "survey.app:create_app()"

Why these settings:

- **Threads, not sync workers.** A sync worker is held by one client for as long as that
  client takes to send its request: 8 connections dribbling a body took all 4 sync workers
  for 40 s. Threaded workers (``gthread``) wait for the first bytes in the worker's poller
  without holding a thread, and here each connection gets at most ``SIPAS_REQUEST_SECONDS``
  (default 20) to deliver its whole request, however slowly it trickles
  (:class:`PatientThreadWorker`); a request that runs out of time is cut off with a 408.
  With ``SIPAS_WORKERS`` × ``SIPAS_THREADS`` (4 × 16) slots, slow clients cost a slot for
  a bounded time and genuine citizens keep being served. On the open Internet at national
  scale, a buffering proxy (nginx) in front is still the stronger answer.
- **Counters shared by every worker.** The citizen form's flood limit counts per address;
  with several workers the counts must be shared (Redis, ``REDIS_URL``), or each worker
  counts alone and the limit is multiplied. The server refuses to start several workers on
  per-process counters. (Holds of stuffed evaluations are counted in the database and need
  nothing shared.)
- **Small request heads** (``limit_request_*``) and the app's own body limits (64 KB on the
  public form, ``MAX_CONTENT_LENGTH`` for staff uploads).

- **Workers warmed up** before they take requests (:func:`post_worker_init`): the
  estimation engine and matplotlib are loaded, one chart drawn, the published
  questionnaires parsed and the page templates compiled, then what was loaded is set
  aside from the garbage collector, so no analyst waits for a worker's imports.

Settings by environment: ``SIPAS_BIND`` (default 127.0.0.1:8000), ``SIPAS_WORKERS``,
``SIPAS_THREADS``, ``SIPAS_REQUEST_SECONDS``, ``SIPAS_WARM_UP`` (``0``: no warm-up).
"""

from __future__ import annotations

import os
import socket
import sys
import time
from typing import Any

import gunicorn.http.wsgi
from gunicorn.workers.gthread import ThreadWorker

# No version banner: gunicorn would answer "Server: gunicorn" on every response, telling an
# attacker what to look up. Every response says "SIPAS" instead.
gunicorn.http.wsgi.SERVER = "SIPAS"


def _number(name: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        sys.exit(f"{name} must be a whole number {low}-{high}, got {raw!r}")
    return value


REQUEST_SECONDS = _number("SIPAS_REQUEST_SECONDS", 20, 1, 600)

bind = os.environ.get("SIPAS_BIND", "127.0.0.1:8000")
workers = _number("SIPAS_WORKERS", 4, 1, 64)
threads = _number("SIPAS_THREADS", 16, 1, 256)
worker_class = "survey.serving.PatientThreadWorker"
# A worker takes no more connections than it has threads: one that is busy with slow clients
# leaves new connections to the others (accept order would otherwise pile them on one).
worker_connections = threads
timeout = 30
graceful_timeout = 30
keepalive = 5
backlog = 2048
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190


class _DeadlineSocket:
    """A client socket on which one request may take at most ``seconds`` to read.

    gunicorn puts the socket back in blocking mode before each request; here that means a
    timeout instead, shrinking so that the whole request (head and body) must arrive
    before the deadline, however slowly it trickles in.
    """

    def __init__(self, sock: socket.socket, seconds: float) -> None:
        self._sock = sock
        self._seconds = seconds
        self.deadline: float | None = None

    def setblocking(self, flag: bool) -> None:
        if flag:
            self._sock.settimeout(self._seconds)
        else:
            self._sock.setblocking(False)

    def _left(self) -> float:
        now = time.monotonic()
        if self.deadline is None:
            self.deadline = now + self._seconds
        left = self.deadline - now
        if left <= 0:
            raise TimeoutError("the request took too long to arrive")
        self._sock.settimeout(left)
        return left

    def recv(self, size: int, *args: Any) -> bytes:
        self._left()
        return self._sock.recv(size, *args)

    def recv_into(self, buffer: Any, *args: Any) -> int:
        self._left()
        return self._sock.recv_into(buffer, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class PatientThreadWorker(ThreadWorker):
    """gunicorn's threaded worker with a deadline on reading each request."""

    def handle(self, conn: Any) -> Any:
        if not isinstance(conn.sock, _DeadlineSocket):
            conn.sock = _DeadlineSocket(conn.sock, REQUEST_SECONDS)
        conn.sock.deadline = None  # a new request: a new deadline from its first byte
        return super().handle(conn)


def on_starting(server: Any) -> None:
    """Check the configuration once, in the master, before any worker starts."""
    from survey.app import create_app
    from survey.config import ConfigError

    try:
        app = create_app()
    except (ConfigError, RuntimeError) as exc:
        sys.exit(f"SIPAS cannot start: {exc}")
    storage = str(app.config.get("RATELIMIT_STORAGE_URI", "memory://"))
    app.extensions["sipas_engine"].dispose()
    if server.cfg.workers > 1 and storage.startswith("memory"):
        sys.exit(
            f"SIPAS cannot start {server.cfg.workers} workers with per-process rate-limit "
            "counters: each worker would count alone. Set REDIS_URL (e.g. "
            "redis://127.0.0.1:6379/0) or run one worker (SIPAS_WORKERS=1).")


def post_worker_init(worker: Any) -> None:
    """Load what the analysts' pages need before the worker takes requests: the estimation
    engine and the intervals' quantiles, matplotlib with its fonts, the published
    questionnaires and the page templates (about 2 s of imports, a first chart, parsing and
    compiling), paid once at start instead of by the first analyst each worker serves.
    ``SIPAS_WARM_UP=0`` skips it (throwaway test servers that never draw a chart)."""
    if os.environ.get("SIPAS_WARM_UP", "1") == "0":
        return
    started = time.perf_counter()
    try:
        import scipy.special  # noqa: F401 - the intervals' quantiles: 0.2-0.4 s on first use

        import analysis.compare  # noqa: F401
        import analysis.engine  # noqa: F401
        import analysis.index  # noqa: F401
        import analysis.ranking  # noqa: F401
        from survey.memory import set_aside_loaded
        from survey.services.reports import charts

        charts.warm_up()
        parsed = compiled = 0
        app = getattr(worker, "wsgi", None)
        engine = getattr(app, "extensions", {}).get("sipas_engine")
        if engine is not None:  # the published questionnaires, parsed once per worker
            from survey.services.instruments_text import warm_up

            parsed = warm_up(engine)
        if hasattr(app, "jinja_env"):
            compiled = _compile_templates(app)
    except Exception as exc:  # noqa: BLE001 - a warm-up never stops a worker from serving
        worker.log.warning("reports warm-up skipped: %s", exc)
        return
    worker.log.info("reports warmed up in %.1f s (%d questionnaires parsed, %d templates "
                    "compiled, %d objects set aside from garbage collection)",
                    time.perf_counter() - started, parsed, compiled,
                    # what the worker loaded lives as long as it does: the collector's full
                    # collections would walk it at moments no page chooses (a dashboard's
                    # first desk report took 0.3 s instead of 0.15 s when one fell in it)
                    set_aside_loaded())


def _compile_templates(app: Any) -> int:
    """Compile every page template into the app's Jinja cache: a page's first visit in a
    worker otherwise compiles its template, its macros and the base page (0.1 s for the
    dashboard; all 41 take about 0.5 s, paid here once per worker)."""
    env = app.jinja_env
    names = env.list_templates(extensions=["html"])
    for name in names:
        env.get_template(name)
    return len(names)
