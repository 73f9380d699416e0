"""QR desk submissions under gunicorn: saturation throughput, latency, nothing lost.

Run: ``.venv/bin/python benchmarks/bench_desk_submit.py`` (both backends) or
``--backends sqlite --duration 5``. Needs gunicorn; PostgreSQL at 127.0.0.1:5432
(``--pg-admin-url``) and Redis (``REDIS_URL``, default redis://127.0.0.1:6379/0) are used
when reachable.

Everything a citizen's POST goes through stays on: the canonical desk link, the
server-signed form instance (one per submission, issued in advance with the instance's key
as the GET of the form would, so the figures are of the POST alone), the per-address flood
limit (raised by configuration, counted in Redis), the hold counts in the database (raised
so that every evaluation counts; load spread over ``--desks`` desks), validation, the
idempotent store, burst signals, synchronous=FULL on SQLite. Every 10th request re-sends
the previous request's exact body (a double tap): it must be answered 303 and stored once.

The load generator is raw HTTP over loopback sockets (one connection per request; gunicorn's
sync workers close after each) in 2 processes × threads. It runs on the SAME 2 cores as the
server, so the figures are a lower bound for a server with its own cores. Afterwards the
database is compared with what the clients saw accepted: lost = accepted but not stored,
extra = stored but not accepted, duplicates = rows sharing a client UUID.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import re
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from throwaway import free_port, gunicorn, instance_env, throwaway_instance  # noqa: E402

LIMITS = ('DESK_LIMIT_ADDRESS = "10000000 per minute"\n'
          'DESK_HOLD_DESK_ADDRESS = DESK_HOLD_ADDRESS = DESK_HOLD_DESK = 100000000\n')


@dataclass(frozen=True)
class Slot:
    """One prepared phone: a desk link, its desk id, the form version and the instance key."""

    path: str
    desk_id: int
    iv: str
    secret_key: str


def http(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(raw)
        chunks = []
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def fetch_slot(port: int, path: str, desk_id: int, secret_key: str) -> Slot:
    reply = http(port, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                 .encode()).decode("utf-8", "replace")
    iv = re.search(r'name="iv" value="([^"]+)"', reply)
    if not (iv and 'name="form_token"' in reply):
        raise RuntimeError(f"form not served at {path}: {reply[:200]!r}")
    return Slot(path, desk_id, iv.group(1), secret_key)


def post_bytes(slot: Slot, rng: random.Random) -> tuple[bytes, str]:
    """A submission of a new form instance; (request bytes, its client UUID)."""
    from survey.services.desks.form_tokens import issue_form

    form = issue_form(slot.secret_key, slot.desk_id)
    body = (f"form_token={form.token}&iv={slot.iv}"
            f"&service_field={rng.choice('1234567')}&overall={rng.randint(1, 5)}"
            f"&on_time={rng.randint(1, 3)}&staff_attitude={rng.randint(1, 5)}"
            f"&visits={rng.randint(1, 4)}&posted_procedures={rng.choice('123459')}"
            f"&feedback_handling={rng.choice('123459')}&comment=T%E1%BB%91t")
    head = (f"POST {slot.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    return (head + body).encode(), str(form.client_uuid)


def client_process(args: tuple[int, list[Slot], float, int]
                   ) -> tuple[float, list[tuple[float, int, str]]]:
    """Threads, one per slot, post until the deadline: (CPU s, [(latency s, status, uuid)])."""
    port, slots, duration, seed = args
    cpu0 = time.process_time()
    results: list[tuple[float, int, str]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(slots))

    def run(slot: Slot, k: int) -> None:
        rng = random.Random(seed * 1000 + k)
        mine = []
        barrier.wait()
        deadline = time.perf_counter() + duration
        previous: tuple[bytes, str] | None = None
        n = 0
        while time.perf_counter() < deadline:
            n += 1
            if previous is not None and n % 10 == 0:
                raw, cu = previous  # a double tap: the same body again
            else:
                raw, cu = post_bytes(slot, rng)
            t0 = time.perf_counter()
            reply = http(port, raw)
            status = int(reply[9:12]) if reply[:5] == b"HTTP/" else 0
            mine.append((time.perf_counter() - t0, status, cu))
            previous = (raw, cu)
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=run, args=(s, k)) for k, s in enumerate(slots)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.process_time() - cpu0, results


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of processes and their children (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    seen: set[int] = set()
    todo = list(pids)
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{pid}/task").iterdir():
                kids = (task / "children").read_text().split()
                todo.extend(int(k) for k in kids)
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def service_pids(name: str) -> list[int]:
    """Top processes of a service (redis-server, postgres) by command name."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if (proc / "comm").read_text().strip() == name:
                    pids.append(int(proc.name))
            except OSError:
                continue
    return pids


def run_load(port: int, slots: list[Slot], duration: float, processes: int = 2,
             server_pids: list[int] | None = None) -> dict:
    parts = [slots[k::processes] for k in range(processes)]
    watched = {"app": server_pids or [], "redis": service_pids("redis-server"),
               "postgres": service_pids("postgres")}
    before = {k: cpu_seconds(v) for k, v in watched.items()}
    with mp.get_context("fork").Pool(processes) as pool:
        done = pool.map(client_process, [(port, p, duration, k) for k, p in enumerate(parts)])
    used = {k: cpu_seconds(v) - before[k] for k, v in watched.items()}
    results = [r for _cpu, part in done for r in part]
    client_cpu = sum(cpu for cpu, _part in done)
    latencies = sorted(r[0] for r in results)
    statuses: dict[int, int] = {}
    for _lat, status, _cu in results:
        statuses[status] = statuses.get(status, 0) + 1

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    return {"requests": len(results), "rate": len(results) / duration, "p50": pct(0.50),
            "p99": pct(0.99), "statuses": statuses,
            "client_cpu": client_cpu / (duration * (os.cpu_count() or 1)),
            "cpu_ms": {k: 1000 * v / max(1, len(results)) for k, v in used.items()},
            "accepted": {cu for _lat, status, cu in results if status == 303}}


@contextmanager
def instance(backend: str, pg_admin: str, desks: int, stored: int = 0
             ) -> Iterator[dict[str, str]]:
    """A fresh instance folder and database with the desk form and ``desks`` desks, and
    ``stored`` evaluations already in it (PostgreSQL: bulk-loaded as ``bench_scale`` does,
    the tallies rebuilt from them)."""
    from sqlmodel import Session, select

    from survey.db import make_engine
    from survey.migrate import upgrade_database
    from survey.models import Desk
    from survey.services.desks.links import add_desk
    from survey.services.instruments import latest_version, publish_forms_dir
    from survey.services.instruments_text import parse_stored
    from survey.services.reports import tallies

    with throwaway_instance(backend, pg_admin, LIMITS) as (folder, url):
        engine = make_engine(url)
        upgrade_database(engine)
        with Session(engine) as session:
            publish_forms_dir(session)
            for k in range(desks):
                add_desk(session, f"B{k:04d}", f"Bàn thử {k}")
            session.commit()
            form = latest_version(session, "desk_evaluation")
            items = [i.code for i in parse_stored(form.source_text).items if i.type == "scale"]
            desk_ids = [int(d) for d in session.exec(select(Desk.id))]
        if stored:
            if backend != "postgresql":
                raise SystemExit("--stored needs the postgresql backend")
            import psycopg
            from bench_scale import TRIGGERS, load_evaluations

            t = time.perf_counter()
            with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
                for table, trigger in TRIGGERS:
                    conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
                load_evaluations(conn, stored, desk_ids, int(form.id), items,  # type: ignore[arg-type]
                                 random.Random(5), signals=True)
                conn.execute("SELECT setval(pg_get_serial_sequence('response', 'id'), "
                             f"{stored})")
                for table, trigger in TRIGGERS:
                    conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
                conn.commit()
                conn.execute("ANALYZE")
            with Session(engine) as session:
                tallies.rebuild(session)
                session.commit()
            print(f"  {stored:,} evaluations stored beforehand in {time.perf_counter() - t:.0f} s")
        engine.dispose()
        yield instance_env(folder, url)


@contextmanager
def serve(env: dict[str, str], workers: int) -> Iterator[tuple[int, int]]:
    port = free_port()
    with gunicorn(env, port, workers, ["--log-level", "warning"]) as pid:
        yield port, pid


def desk_slots(env: dict[str, str]) -> list[tuple[str, int, str]]:
    """(link path, desk id, instance key) of every desk."""
    from survey.services.desks.links import desk_token, list_desks

    os.environ.update({k: env[k] for k in ("SIPAS_INSTANCE", "DATABASE_URL")})
    from survey.app import create_app

    app = create_app()
    from sqlmodel import Session

    key = app.config["SECRET_KEY"]
    with Session(app.extensions["sipas_engine"]) as session:
        found = [("/d/" + desk_token(key, row.desk), int(row.desk.id), key)
                 for row in list_desks(session)]
    app.extensions["sipas_engine"].dispose()
    return found


def verify(env: dict[str, str], accepted: set[str], stored: int = 0) -> dict[str, int]:
    from sqlalchemy import text

    from survey.db import make_engine

    engine = make_engine(env["DATABASE_URL"])
    with engine.connect() as conn:
        before = {"before": stored}  # the rows stored beforehand are not the run's
        stored = {str(u) for u in conn.execute(text(
            "SELECT client_uuid FROM response WHERE id > :before"), before).scalars()}
        rows = conn.execute(text("SELECT count(*) FROM response WHERE id > :before"),
                            before).scalar_one()
        signals = conn.execute(text("SELECT count(*) FROM desk_signal WHERE response_id > :before"),
                               before).scalar_one()
    engine.dispose()
    stored = {s if "-" in s else str(uuid.UUID(s)) for s in stored}
    return {"stored": rows, "accepted": len(accepted), "lost": len(accepted - stored),
            "extra": len(stored - accepted), "duplicates": rows - len(stored),
            "signals_missing": rows - signals}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--saturation-clients", type=int, default=32)
    parser.add_argument("--latency-clients", type=int, default=8)
    parser.add_argument("--desks", type=int, default=200)
    parser.add_argument("--stored", type=int, default=0,
                        help="evaluations in the database before the runs (PostgreSQL)")
    parser.add_argument("--single", action="store_true",
                        help="also one client alone: the latency of one submission unloaded")
    parser.add_argument("--pg-admin-url",
                        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    print(f"cores: {os.cpu_count()} shared by gunicorn ({args.workers} sync workers) and the "
          f"load generator (2 processes); rate limits on (Redis {os.environ['REDIS_URL']}), "
          f"CSRF on, {args.desks} desks, {args.duration:.0f} s per run")
    for backend in args.backends.split(","):
        with instance(backend, args.pg_admin_url, args.desks, args.stored) as env, \
                serve(env, args.workers) as (port, pid):
            desks = desk_slots(env)
            n = max(args.saturation_clients, args.latency_clients)
            slots = [fetch_slot(port, *desks[k % len(desks)]) for k in range(n)]
            warm = run_load(port, slots[:2], 1.0)  # warm-up: imports, pools, caches
            sat = run_load(port, slots[:args.saturation_clients], args.duration,
                           server_pids=[pid])
            lat = run_load(port, slots[:args.latency_clients], args.duration, server_pids=[pid])
            runs = [("saturation", sat, args.saturation_clients),
                    ("latency", lat, args.latency_clients)]
            accepted = warm["accepted"] | sat["accepted"] | lat["accepted"]
            if args.single:
                alone = run_load(port, slots[:1], args.duration, server_pids=[pid])
                runs.append(("one client", alone, 1))
                accepted |= alone["accepted"]
            check = verify(env, accepted, args.stored)
        print(f"\n[{backend}]")
        for label, res, clients in runs:
            print(f"  {label:<10} {clients:>2} clients: {res['rate']:7.1f} req/s  "
                  f"p50 {res['p50']:6.1f} ms  p99 {res['p99']:6.1f} ms  "
                  f"statuses {res['statuses']}")
            cpu = ", ".join(f"{k} {v:.2f}" for k, v in res["cpu_ms"].items())
            print(f"  {'':<10} CPU ms per request: {cpu}; load generator "
                  f"{res['client_cpu']:.0%} of the cores")
        print(f"  integrity: {check}")


if __name__ == "__main__":
    main()
