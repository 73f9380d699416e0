"""Citizen evaluations under stress: re-sends, races and killed workers lose and double nothing.

Run: ``.venv/bin/python benchmarks/stress_submissions.py`` (10,000 evaluations from 200
concurrent phones, SQLite then PostgreSQL) or e.g. ``--evaluations 300 --clients 20
--backends sqlite``. PostgreSQL: ``--pg-admin-url`` (default the local server, trust auth);
a database is created for the run and dropped afterwards.

The instance is set up as an operator would: ``sipas init`` and ``sipas desk add``; the rate
limits are raised in the instance's ``config.py`` (``DESK_LIMIT_*``), since every phone here
shares 127.0.0.1. gunicorn serves on loopback with sync workers, an access log and an error
log. Each phone posts every evaluation once plus 0–3 re-sends under the same client UUID
(in a row, or at once on parallel connections), retrying while its worker is killed with
SIGKILL every few seconds (see stress_clients.py). Afterwards the database is compared with
what the phones saw acknowledged (a 303 to the thank-you page):

- lost: acknowledged but not stored; duplicates: client UUIDs stored more than once;
  unacknowledged: stored though no copy was ever acknowledged (retries ran out);
- altered: stored answers, consented phones or dossier hashes differing from what was sent;
- 5xx and other unexpected statuses; SQLite ``PRAGMA integrity_check``;
- leaks: a canary (comment, dossier code, phone) in the access or error log, or a dossier
  code in clear anywhere in the SQLite files.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import multiprocessing as mp
import re
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stress_clients import (  # noqa: E402
    CANARY_COMMENT,
    CANARY_DOSSIER,
    Evaluation,
    Saboteur,
    run_phones,
)
from throwaway import (  # noqa: E402
    BIN,
    DEFAULT_PG,
    REPO,
    free_port,
    gunicorn,
    instance_env,
    throwaway_instance,
)

LIMITS = ('DESK_LIMIT_ADDRESS = "100000000 per minute"\n'
          'DESK_HOLD_DESK_ADDRESS = DESK_HOLD_ADDRESS = DESK_HOLD_DESK = 100000000\n'
          'RATELIMIT_STORAGE_URI = "memory://"\n')


@dataclass(frozen=True)
class Figures:
    """What one run measured; ``ok`` is the verdict the CI variant asserts."""

    backend: str
    evaluations: int
    acknowledged: int
    stored: int
    lost: int
    duplicates: int
    unacknowledged: int
    altered: int
    requests: int
    statuses: dict[int, int]
    kills: int
    seconds: float
    integrity: str
    leaks: int

    @property
    def ok(self) -> bool:
        unexpected = {s for s in self.statuses if s not in (0, 303)}
        return (self.lost == self.duplicates == self.altered == self.leaks == 0
                and self.acknowledged == self.evaluations and not unexpected
                and self.integrity in ("ok", "n/a"))


def sipas(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(BIN / "sipas"), *args], env=env, cwd=REPO, text=True,
                          capture_output=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"sipas {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


@contextmanager
def instance(backend: str, pg_admin_url: str, desks: int, port: int
             ) -> Iterator[tuple[Path, dict[str, str], list[str]]]:
    """A fresh instance folder and database, set up with the CLI; desk link paths."""
    with throwaway_instance(backend, pg_admin_url, LIMITS, "sipas-stress") as (folder, url):
        env = instance_env(folder, url, f"http://127.0.0.1:{port}", keep_redis=False)
        sipas(env, "init")
        paths = [urlparse(sipas(env, "desk", "add", "--code", f"ST{k:03d}", "--name",
                                f"Bàn thử {k}").strip().splitlines()[-1]).path
                 for k in range(desks)]
        yield folder, env, paths


@contextmanager
def serve(folder: Path, env: dict[str, str], port: int, workers: int) -> Iterator[int]:
    """gunicorn on 127.0.0.1 with access and error logs in the instance folder; its pid."""
    with gunicorn(env, port, workers, [
            "--timeout", "60", "--log-level", "info",
            "--access-logfile", str(folder / "access.log"),
            "--error-logfile", str(folder / "error.log")]) as pid:
        yield pid


def stored_rows(url: str) -> tuple[dict[str, int], dict[str, dict[str, str]]]:
    """Rows per client UUID, and per stored response what the phone would have sent."""
    from sqlalchemy import text

    from survey.db import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        counts = {_uuid(u): int(n) for u, n in conn.execute(text(
            "SELECT client_uuid, count(*) FROM response GROUP BY client_uuid"))}
        ids = {rid: _uuid(u) for rid, u in conn.execute(text(
            "SELECT id, client_uuid FROM response"))}
        seen: dict[str, dict[str, str]] = {u: {} for u in ids.values()}
        for rid, code, num, txt in conn.execute(text(
                "SELECT response_id, item_code, value_num, value_text FROM answer")):
            seen[ids[rid]][code] = str(int(num)) if num is not None else txt
        for rid, phone in conn.execute(text("SELECT response_id, phone FROM desk_contact")):
            seen[ids[rid]].update(contact_phone=phone, contact_consent="yes")
        for rid, digest in conn.execute(text(
                "SELECT id, dossier_hash FROM response WHERE dossier_hash IS NOT NULL")):
            seen[ids[rid]]["dossier_hash"] = digest
    engine.dispose()
    return counts, seen


def _uuid(raw: object) -> str:
    return str(uuid.UUID(str(raw)))


def expected(evaluation: Evaluation, key: bytes) -> dict[str, str]:
    fields = dict(evaluation.fields)
    dossier = fields.pop("dossier_code", None)
    if dossier:
        fields["dossier_hash"] = hmac.new(key, dossier.upper().encode(),
                                          hashlib.sha256).hexdigest()
    return fields


def leaks(folder: Path, evaluations: list[Evaluation], backend: str) -> int:
    """Canaries found in the logs, plus dossier codes in clear in the SQLite files."""
    phones = {e.fields["contact_phone"] for e in evaluations if "contact_phone" in e.fields}
    logs = "".join(p.read_text("utf-8", "replace") for p in folder.glob("*.log"))
    found = len(re.findall(f"{CANARY_COMMENT}|{CANARY_DOSSIER}", logs, re.I))
    found += sum(1 for m in re.findall(r"0\d{9}", logs) if m in phones)
    if backend == "sqlite":
        raw = b"".join(p.read_bytes() for p in folder.glob("sipas.db*"))
        found += raw.upper().count(CANARY_DOSSIER.encode())
    return found


def run(backend: str, evaluations: int, clients: int, *, workers: int = 4, desks: int = 4,
        kill_every: tuple[float, float] = (2.0, 4.0), max_seconds: float = 900.0,
        processes: int = 2, pg_admin_url: str = DEFAULT_PG, seed: int = 1,
        max_kills: int | None = None) -> Figures:
    """One complete run on one backend; bounded by ``max_seconds``."""
    from survey.services.desks.links import dossier_secret

    port = free_port()
    with instance(backend, pg_admin_url, desks, port) as (folder, env, paths), \
            serve(folder, env, port, workers) as master:
        secret_key = re.search(r"SECRET_KEY = '([^']+)'",
                               (folder / "config.py").read_text()).group(1)  # type: ignore[union-attr]
        plan = [(paths[k % len(paths)], evaluations // clients + (k < evaluations % clients),
                 seed * 100_000 + k) for k in range(clients)]
        started = time.monotonic()
        deadline = started + max_seconds
        saboteur = Saboteur(master, *kill_every, seed=seed, most=max_kills)
        saboteur.start()
        with mp.get_context("fork").Pool(processes) as pool:
            parts = pool.map(run_phones, [(port, plan[k::processes], deadline)
                                          for k in range(processes)])
        saboteur.stopped.set()
        saboteur.join()
        seconds = time.monotonic() - started
        done = [e for part in parts for e in part]
        counts, seen = stored_rows(env["DATABASE_URL"])
        integrity = "n/a"
        if backend == "sqlite":
            with sqlite3.connect(folder / "sipas.db") as db:
                integrity = "; ".join(r[0] for r in db.execute("PRAGMA integrity_check"))
        acked = {e.client_uuid for e in done if e.acknowledged}
        key = dossier_secret(secret_key)
        altered = sum(1 for e in done
                      if e.client_uuid in seen and seen[e.client_uuid] != expected(e, key))
        statuses = Counter(s for e in done for s in e.statuses)
        return Figures(
            backend=backend, evaluations=evaluations, acknowledged=len(acked),
            stored=sum(counts.values()), lost=len(acked - counts.keys()),
            duplicates=sum(1 for n in counts.values() if n > 1),
            unacknowledged=len(counts.keys() - acked), altered=altered,
            requests=sum(statuses.values()), statuses=dict(sorted(statuses.items())),
            kills=saboteur.kills, seconds=seconds, integrity=integrity,
            leaks=leaks(folder, done, backend),
        )  # fmt: skip


def postgres_reachable(url: str) -> bool:
    from survey.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect():
            return True
    except Exception:  # noqa: BLE001 - any failure means "no server here"
        return False
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--evaluations", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--kill-every", type=float, nargs=2, default=(2.0, 4.0),
                        metavar=("MIN_S", "MAX_S"))
    parser.add_argument("--max-seconds", type=float, default=900.0)
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG)
    args = parser.parse_args()
    if args.clients < 1 or args.evaluations < args.clients:
        parser.error("need at least one client and one evaluation per client")
    failed = False
    for backend in args.backends.split(","):
        if backend == "postgresql" and not postgres_reachable(args.pg_admin_url):
            print(f"[postgresql] not reachable at {args.pg_admin_url}: skipped")
            failed = True
            continue
        fig = run(backend, args.evaluations, args.clients, workers=args.workers,
                  kill_every=tuple(args.kill_every), max_seconds=args.max_seconds,
                  pg_admin_url=args.pg_admin_url)
        print(f"[{backend}] {fig.evaluations} evaluations from {args.clients} phones, "
              f"{args.workers} workers, {fig.kills} SIGKILLs, {fig.seconds:.1f} s")
        print(f"  requests {fig.requests} ({fig.requests / fig.seconds:.0f}/s), "
              f"statuses {fig.statuses} (0 = connection cut by a kill)")
        print(f"  acknowledged {fig.acknowledged}, stored {fig.stored}: lost {fig.lost}, "
              f"duplicates {fig.duplicates}, unacknowledged {fig.unacknowledged}, "
              f"altered {fig.altered}")
        print(f"  integrity_check {fig.integrity}; canary leaks {fig.leaks}; "
              f"verdict {'OK' if fig.ok else 'FAILED'}")
        failed |= not fig.ok
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
