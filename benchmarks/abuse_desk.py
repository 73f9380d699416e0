"""Abuse of the public desk form under the documented production server: what gets counted?

Run: ``.venv/bin/python benchmarks/abuse_desk.py`` (SQLite) or ``--backend postgresql``;
``--posts 500`` sets the size of each attack. Needs Redis (``REDIS_URL``, default
redis://127.0.0.1:6379/0): the README's production command refuses several workers without
it. gunicorn runs as the README says (``-c python:survey.serving``, 4 threaded workers),
behind one trusted proxy (``SIPAS_TRUSTED_PROXIES=1``) so that the attacks can come from
many addresses through ``X-Forwarded-For`` on loopback. Default settings otherwise.

Attacks, each with its own fresh form per post (GET then POST, as a phone would):

1. one phone stuffs one desk; 2. many addresses flood one desk, and a genuine citizen
from a new address evaluates in the middle of it; 3. respelled links (padding, bits, stray
characters) that the signature alone would accept; 4. made-up form instances; 5. one form
instance replayed; 6. a burst of sequential dossier codes from one address, then the real
holder of one of them. For each: posts sent, answered 303, stored, held, counted in the
estimates (the dashboard's desk report), and whether the genuine citizen got through.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stress_clients import exchange, open_phone  # noqa: E402
from throwaway import (  # noqa: E402
    BIN,
    DEFAULT_PG,
    REPO,
    free_port,
    gunicorn,
    instance_env,
    throwaway_instance,
)

ANSWERS = {"service_field": "3", "overall": "1", "on_time": "3", "staff_attitude": "1",
           "visits": "5"}


def post(port: int, path: str, address: str, token: str | None = None, iv: str = "",
         **fields: str) -> int:
    """GET a fresh form from ``address`` (unless a token is given), POST it; the status."""
    if token is None:
        phone = open_phone(port, path, deadline=float("inf"), forwarded=address)
        token, iv = phone.token, phone.iv
    body = urlencode({"form_token": token, "iv": iv, **ANSWERS, **fields}).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-For: {address}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    return exchange(port, head + body)[0]


def counts(url: str) -> dict[str, int]:
    """Stored responses by review status, and what the desk report counts."""
    from sqlalchemy import func, select
    from sqlmodel import Session

    from survey.db import make_engine
    from survey.models import Response, utcnow
    from survey.services.reports.desk import desk_report
    from survey.services.reports.period import parse_period

    engine = make_engine(url)
    with Session(engine) as session:
        by_status = dict(session.execute(
            select(Response.status, func.count()).group_by(Response.status)).all())
        report = desk_report(session, parse_period(utcnow().strftime("%Y-%m")), min_n=1)
    engine.dispose()
    return {"stored": sum(by_status.values()), "held": by_status.get("held", 0),
            "counted": report.evaluations}


def respellings(path: str) -> list[str]:
    prefix, token = path.rsplit("/", 1)
    payload, sig = token.split(".")
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twins = [f"{payload}.{sig[:-1]}{c}" for c in letters if c != sig[-1]]
    return [f"{prefix}/{v}" for v in [token + "=", token + "==", *twins]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG)
    parser.add_argument("--posts", type=int, default=300)
    args = parser.parse_args()
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    os.environ["SIPAS_TRUSTED_PROXIES"] = "1"
    rng = random.Random(7)
    with throwaway_instance(args.backend, args.pg_admin_url, prefix="sipas-abuse") as (
            folder, url):
        env = instance_env(folder, url)

        def sipas(*a: str) -> str:
            return subprocess.run([str(BIN / "sipas"), *a], env=env, cwd=REPO, check=True,
                                  capture_output=True, text=True).stdout

        sipas("init")
        paths = [sipas("desk", "add", "--code", f"AB{k}", "--name", f"Bàn {k}").split()[-1]
                 for k in range(3)]
        paths = ["/d/" + p.rsplit("/d/", 1)[1] for p in paths]
        port = free_port()
        rows: list[tuple[str, int, dict[int, int], dict[str, int], str]] = []
        with gunicorn(env, port, 4, ["-c", "python:survey.serving"]):
            def attack(name: str, statuses: list[int], note: str = "") -> None:
                before = rows[-1][3] if rows else {"stored": 0, "held": 0, "counted": 0}
                now = counts(url)
                delta = {k: now[k] - before.get(k, 0) for k in now}
                tally: dict[int, int] = {}
                for s in statuses:
                    tally[s] = tally.get(s, 0) + 1
                rows.append((name, len(statuses), tally, now, note))
                print(f"{name:<34} sent {len(statuses):>5}  answers {tally}  stored "
                      f"+{delta['stored']}  held +{delta['held']}  counted +{delta['counted']}"
                      f"{'  ' + note if note else ''}", flush=True)

            n = args.posts
            attack("1 one phone, one desk", [post(port, paths[0], "198.51.100.7")
                                              for _ in range(n)])
            flood = [post(port, paths[1], f"203.0.{k // 250}.{k % 250 + 1}")
                     for k in range(n // 2)]
            genuine = post(port, paths[1], "192.0.2.77", comment="Người dân thật")
            flood += [post(port, paths[1], f"203.0.{k // 250 + 2}.{k % 250 + 1}")
                      for k in range(n // 2)]
            attack("2 many addresses flood a desk", flood,
                   f"genuine citizen answered {genuine} (303 = stored, not refused)")
            variants = respellings(paths[2])
            phone = open_phone(port, paths[2], deadline=float("inf"))
            attack("3 respelled links", [post(port, v, "198.51.100.8", phone.token, phone.iv)
                                         for v in variants])
            attack("4 made-up form instances", [
                post(port, paths[2], "198.51.100.9", f"made.up.{rng.getrandbits(64):x}",
                     phone.iv) for _ in range(n // 10)])
            phone = open_phone(port, paths[2], deadline=float("inf"))
            attack("5 one form replayed", [post(port, paths[2], "198.51.100.10", phone.token,
                                                phone.iv) for _ in range(n // 5)])
            burst = [post(port, paths[2], "198.51.100.11", dossier_code=f"H01.2026.{k:05d}")
                     for k in range(1, n // 2 + 1)]
            holder = post(port, paths[2], "192.0.2.88", dossier_code="H01.2026.00010")
            attack("6 sequential dossier codes", burst,
                   f"real holder of H01.2026.00010 answered {holder}")
    final = rows[-1][3]
    print(f"\ntotal: {sum(r[1] for r in rows)} posts; stored {final['stored']}, held "
          f"{final['held']}, counted in the estimates {final['counted']}")


if __name__ == "__main__":
    main()
