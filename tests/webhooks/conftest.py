"""A webhook receiver on loopback that keeps what it was sent, and the desk fixtures."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.desks.conftest import _no_shared_limiter_storage, desk_link  # noqa: F401


@dataclass
class Received:
    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def key(self) -> str:
        return self.headers["idempotency-key"]

    @property
    def data(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    got: list[Received] = field(default_factory=list)
    # status to answer for the n-th request (0-based), before answering: a pause
    answer: Callable[[int], int] = lambda n: 200
    pause: Callable[[int], float] = lambda n: 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def keys(self) -> set[str]:
        return {r.key for r in self.got}

    def wait_for(self, n: int, seconds: float = 30.0) -> None:
        deadline = time.monotonic() + seconds
        while len(self.keys()) < n and time.monotonic() < deadline:
            time.sleep(0.05)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            me = box["r"]
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with me.lock:
                n = len(me.got)
                me.got.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
            time.sleep(me.pause(n))
            status = me.answer(n)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    box["r"] = Receiver(f"http://127.0.0.1:{server.server_port}/hook")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield box["r"]
    server.shutdown()
    server.server_close()
