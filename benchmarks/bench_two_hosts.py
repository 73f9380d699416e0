"""Two app hosts behind a load balancer, one PostgreSQL and one Redis: is the web tier
stateless?

Run: ``.venv/bin/python benchmarks/bench_two_hosts.py [--duration 10] [--clients 16]``.

Two "hosts" are two gunicorn servers started as the README's production command
(``-c python:survey.serving``), each with an instance folder of its own (its own
``config.py`` copy, report cache and logs, as two machines would have) on its own port,
sharing only what a deployment shares: the PostgreSQL database, the Redis server and the
secret key. A round-robin TCP balancer (this script, asyncio) sends each connection to the
next host. Three checks:

1. **Load.** The QR submission load of ``bench_desk_submit.py`` (fresh signed form per
   submission, every 10th a double tap of the previous body) through the balancer, then the
   database compared with what the clients saw accepted: nothing lost, nothing extra,
   nothing stored twice, each host served about half.
2. **Rate limits shared.** The per-address flood limit lowered to ``LIMIT`` a minute; one
   address asks for the form ``2 × LIMIT`` times through the balancer (alternating hosts):
   exactly ``LIMIT`` get it. Two hosts counting apart would let ``2 × LIMIT`` through.
3. **Sessions valid on both.** A supervisor signs in on host A; the cookie opens a staff
   page on host B; signing out on B ends the session on A too (sessions are rows in the
   database, not in a process).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_desk_submit import desk_slots, fetch_slot, http, run_load, verify  # noqa: E402
from throwaway import DEFAULT_PG, free_port, gunicorn, instance_env, throwaway_instance  # noqa: E402

LIMIT = 40  # form requests a minute per address in check 2
PASSWORD = "hai máy chủ mật khẩu"


@dataclass
class Balancer:
    """Round-robin TCP proxy on loopback: each new connection to the next backend."""

    backends: list[int]
    port: int = field(default_factory=free_port)
    served: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.served = [0] * len(self.backends)
        self._next = 0

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            try:
                writer.close()
            except RuntimeError:
                pass

    async def _handle(self, client_r: asyncio.StreamReader,
                      client_w: asyncio.StreamWriter) -> None:
        k = self._next
        self._next = (k + 1) % len(self.backends)
        self.served[k] += 1
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", self.backends[k])
        except OSError:
            client_w.close()
            await client_w.wait_closed()
            return
        await asyncio.gather(self._pipe(client_r, up_w), self._pipe(up_r, client_w))

    @contextmanager
    def running(self) -> Iterator[int]:
        """Serve in a thread of its own until the block ends; then close every socket."""
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            server = loop.run_until_complete(asyncio.start_server(
                self._handle, "127.0.0.1", self.port, backlog=2048))
            ready.set()
            loop.run_forever()
            server.close()
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            try:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(server.wait_closed())
            except asyncio.CancelledError:  # a connection cut while closing: nothing to keep
                pass
            finally:
                loop.close()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        if not ready.wait(10):
            raise RuntimeError("the balancer did not start")
        try:
            yield self.port
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)


@contextmanager
def two_hosts(pg_admin_url: str, config: str, desks: int = 20
              ) -> Iterator[tuple[dict[str, str], dict[str, str]]]:
    """A shared PostgreSQL database (schema, forms, ``desks`` desks, a supervisor) and two
    instance folders with the same ``config.py``; yields each host's environment."""
    from sqlmodel import Session

    from survey.db import make_engine
    from survey.migrate import upgrade_database
    from survey.services.desks.links import add_desk
    from survey.services.instruments import publish_forms_dir
    from survey.services.users import create_user

    with throwaway_instance("postgresql", pg_admin_url, config, prefix="sipas-hosts") as (
            folder_a, url):
        folder_b = Path(str(folder_a) + "-b")
        folder_b.mkdir()
        shutil.copy(folder_a / "config.py", folder_b / "config.py")  # the same secret key
        engine = make_engine(url)
        upgrade_database(engine)
        with Session(engine) as session:
            publish_forms_dir(session)
            for k in range(desks):
                add_desk(session, f"H{k:03d}", f"Bộ phận thử {k}")
            create_user(session, "giamsat", "supervisor", PASSWORD)
            session.commit()
        engine.dispose()
        try:
            yield instance_env(folder_a, url), instance_env(folder_b, url)
        finally:
            shutil.rmtree(folder_b, ignore_errors=True)


@contextmanager
def served(env_a: dict[str, str], env_b: dict[str, str], workers: int = 2
           ) -> Iterator[tuple[int, int, Balancer]]:
    """Both hosts under gunicorn with the README's settings, and the balancer before them."""
    port_a, port_b = free_port(), free_port()
    production = ["-c", "python:survey.serving"]
    env_a = {**env_a, "SIPAS_WORKERS": str(workers), "SIPAS_BIND": f"127.0.0.1:{port_a}"}
    env_b = {**env_b, "SIPAS_WORKERS": str(workers), "SIPAS_BIND": f"127.0.0.1:{port_b}"}
    with gunicorn(env_a, port_a, workers, production), gunicorn(env_b, port_b, workers,
                                                                production):
        balancer = Balancer([port_a, port_b])
        with balancer.running():
            yield port_a, port_b, balancer


def flood(port: int, path: str, count: int) -> dict[int, int]:
    """``count`` GETs of the form from one address; how many got each status.

    The address is a made-up one given by the (trusted) balancer's ``X-Forwarded-For``, new
    for every run, so that counters left in the shared Redis by an earlier run within the
    minute do not count.
    """
    import random

    address = ".".join(str(random.randint(1, 254)) for _ in range(4))
    statuses: dict[int, int] = {}
    for _ in range(count):
        reply = http(port, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     f"X-Forwarded-For: {address}\r\nConnection: close\r\n\r\n".encode())
        status = int(reply[9:12]) if reply[:5] == b"HTTP/" else 0
        statuses[status] = statuses.get(status, 0) + 1
    return statuses


def sessions_shared(port_a: int, port_b: int) -> dict[str, int]:
    """Sign in on A; the same cookie on B; sign out on B; the cookie again on A."""
    import requests

    a, b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
    browser = requests.Session()
    page = browser.get(a + "/auth/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token is not None, "no CSRF token on the login page"
    login = browser.post(a + "/auth/login", data={"username": "giamsat", "password": PASSWORD,
                                                  "csrf_token": token.group(1)},
                         allow_redirects=False)
    on_b = browser.get(b + "/desks/", allow_redirects=False)
    form = re.search(r'action="/auth/logout".*?name="csrf_token" value="([^"]+)"',
                     on_b.text, re.S)
    logout = browser.post(b + "/auth/logout", data={"csrf_token": form.group(1) if form else ""},
                          allow_redirects=False)
    after = browser.get(a + "/desks/", allow_redirects=False)
    return {"login on A": login.status_code, "staff page on B": on_b.status_code,
            "logout on B": logout.status_code, "staff page on A after": after.status_code}


def run(pg_admin_url: str, duration: float, clients: int, workers: int = 2) -> dict:
    """The three checks; their figures."""
    raised = ('DESK_LIMIT_ADDRESS = "10000000 per minute"\n'
              'DESK_HOLD_DESK_ADDRESS = DESK_HOLD_ADDRESS = DESK_HOLD_DESK = 100000000\n')
    out: dict = {}
    with two_hosts(pg_admin_url, raised) as (env_a, env_b):
        with served(env_a, env_b, workers) as (_a, _b, balancer):
            desks = desk_slots(env_a)
            slots = [fetch_slot(balancer.port, *desks[k % len(desks)]) for k in range(clients)]
            before = list(balancer.served)
            load = run_load(balancer.port, slots, duration)
            out["load"] = load
            out["per host"] = [n - b for n, b in zip(balancer.served, before, strict=True)]
            # the same load straight to host A, for what the balancer itself costs here
            direct = run_load(_a, [fetch_slot(_a, *desks[k % len(desks)])
                                   for k in range(clients)], duration)
            out["direct"] = direct
            out["integrity"] = verify(env_a, load["accepted"] | direct["accepted"])
            out["sessions"] = sessions_shared(_a, _b)
    limited = f'DESK_LIMIT_ADDRESS = "{LIMIT} per minute"\n'
    with two_hosts(pg_admin_url, limited, desks=1) as (env_a, env_b):
        proxied = {"SIPAS_TRUSTED_PROXIES": "1"}  # the balancer is the one proxy
        with served({**env_a, **proxied}, {**env_b, **proxied}, workers) as (_a, _b, balancer):
            path = desk_slots(env_a)[0][0]
            out["flood"] = flood(balancer.port, path, 2 * LIMIT)
            out["flood per host"] = list(balancer.served)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per host")
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG)
    args = parser.parse_args()
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    t = time.perf_counter()
    fig = run(args.pg_admin_url, args.duration, args.clients, args.workers)
    load = fig["load"]
    print(f"two hosts × {args.workers} workers × 16 threads (README's gunicorn settings), one "
          f"PostgreSQL, one Redis ({os.environ['REDIS_URL']}), a round-robin balancer; "
          f"{os.cpu_count()} cores shared by all of it and the load generator")
    print(f"load: {args.clients} clients for {args.duration:.0f} s: {load['requests']} requests "
          f"({load['rate']:.1f}/s), p50 {load['p50']:.1f} ms, p99 {load['p99']:.1f} ms, "
          f"statuses {load['statuses']}; connections per host {fig['per host']}")
    direct = fig["direct"]
    print(f"the same load straight to host A alone (no balancer): {direct['rate']:.1f}/s, "
          f"p50 {direct['p50']:.1f} ms, p99 {direct['p99']:.1f} ms")
    print(f"integrity (both runs): {fig['integrity']}")
    print(f"rate limit of {LIMIT}/min per address, {2 * LIMIT} form requests from one address "
          f"through both hosts {fig['flood per host']}: statuses {fig['flood']}")
    print(f"sessions: {fig['sessions']}")
    print(f"({time.perf_counter() - t:.0f} s in all)")
    bad = (fig["integrity"]["lost"] or fig["integrity"]["extra"] or
           fig["integrity"]["duplicates"] or fig["flood"].get(200, 0) != LIMIT or
           fig["sessions"]["staff page on B"] != 200 or
           fig["sessions"]["staff page on A after"] == 200)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
