"""A counter tablet's queue replayed after an outage: 1,000 evaluations, each stored once.

Run: ``.venv/bin/python benchmarks/bench_kiosk.py [--evaluations 1000] [--lost 50]
[--backend sqlite|postgresql] [--client browser|http]``.

A fresh instance with one desk and one registered tablet is served by gunicorn with the
README's production settings (Redis at ``REDIS_URL``, default the local one). The tablet was
cut off for ten hours: ``--evaluations`` evaluations sit in its queue (answered every ~36 s,
a busy counter), and for ``--lost`` of them the server had stored the evaluation but the
reply never reached the tablet, so they are sent again. With ``--client browser`` (the
default; needs the test extras and Debian's chromium) the queue is put into the tablet
page's own storage and ``static/kiosk.js`` sends it, one at a time, as it does on a tablet;
``--client http`` replays it from Python the same way. Prints the time until the queue is
empty, evaluations per second, and what the database holds: every evaluation once, none
held, the answered times kept.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throwaway import BIN, free_port, gunicorn, instance_env, throwaway_instance  # noqa: E402


def queue(n: int, seed: int = 11) -> list[dict[str, Any]]:
    """What the tablet kept while the network was down, oldest first."""
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(hours=10)
    items = []
    for k in range(n):
        overall = rng.choice([1, 2, 3, 4, 4, 5, 5, 5])
        answers: dict[str, Any] = {"service_field": rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 98]),
                                   "overall": overall, "on_time": rng.choice([1, 1, 1, 2, 3]),
                                   "staff_attitude": rng.randint(1, 5)}
        if overall <= 2:
            answers["low_reasons"] = sorted(rng.sample([1, 2, 3, 4, 5, 6, 98], 2))
        if rng.random() < 0.3:
            answers["comment"] = f"Ý kiến số {k}"
        items.append({"uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                      "iv": None, "answers": answers, "ticket": None,
                      "answered_at": (start + timedelta(seconds=36 * k)).isoformat()})
    return items


def post(url: str, item: dict[str, Any]) -> int:
    """One POST on a connection of its own (as a tablet whose connection dropped)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("POST", parts.path, body=json.dumps(item),
                     headers={"Content-Type": "application/json"})
        reply = conn.getresponse()
        reply.read()
        return int(reply.status)
    finally:
        conn.close()


def replay_http(base: str, path: str, items: list[dict[str, Any]]) -> dict[int, int]:
    codes: dict[int, int] = {}
    for item in items:  # one at a time, oldest first, as kiosk.js does
        while True:
            code = post(base + path + "/evaluations", item)
            if code != 429 and code < 500:
                break
            time.sleep(1)
        codes[code] = codes.get(code, 0) + 1
    return codes


def replay_browser(base: str, path: str, items: list[dict[str, Any]], store: str) -> None:
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.browser import CHROMIUM_ARGS

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context()
        page = context.new_page()
        page.goto(base + path)
        context.set_offline(True)  # the outage: nothing reaches the server
        page.evaluate("([key, value]) => localStorage.setItem(key, value)",
                      [store + ".queue", json.dumps(items)])
        context.set_offline(False)
        page.evaluate("() => window.dispatchEvent(new Event('online'))")
        while page.evaluate(f"() => JSON.parse(localStorage.getItem('{store}.queue')).length"):
            time.sleep(0.05)
        refused = page.evaluate(f"() => JSON.parse(localStorage.getItem('{store}.refused')"
                                " || '[]').length")
        if refused:
            raise RuntimeError(f"the server refused {refused} evaluations")
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--evaluations", type=int, default=1000)
    parser.add_argument("--lost", type=int, default=50, help="stored, but the reply was lost")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--client", choices=["browser", "http"], default="browser")
    parser.add_argument("--pg-admin-url",
                        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    import os

    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")  # the production settings
    port = free_port()
    with throwaway_instance(args.backend, args.pg_admin_url) as (folder, url):
        env = instance_env(folder, url, base_url=f"http://127.0.0.1:{port}")
        sipas = str(BIN / "sipas")
        subprocess.run([sipas, "init"], env=env, check=True, capture_output=True)
        subprocess.run([sipas, "desk", "add", "--code", "MC-01", "--name", "Bộ phận Một cửa"],
                       env=env, check=True, capture_output=True)
        made = subprocess.run([sipas, "kiosk", "add", "MC-01", "--name", "Quầy 1"], env=env,
                              check=True, capture_output=True, text=True)
        path = "/" + made.stdout.strip().split("/", 3)[3]
        items = queue(args.evaluations)
        with gunicorn(env, port, 4, ["-c", "python:survey.serving"]):
            base = f"http://127.0.0.1:{port}"
            html = urllib.request.urlopen(base + path).read().decode()
            store = html.split('data-store="', 1)[1].split('"', 1)[0]
            version = int(html.split('data-iv="', 1)[1].split('"', 1)[0])
            for item in items:
                item["iv"] = version
            for item in random.Random(3).sample(items, args.lost):  # stored, reply lost
                assert post(base + path + "/evaluations", item) == 201
            began = time.perf_counter()
            if args.client == "browser":
                replay_browser(base, path, items, store)
                codes = None
            else:
                codes = replay_http(base, path, items)
            seconds = time.perf_counter() - began
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT count(*), count(DISTINCT client_uuid), "
                                     "sum(CASE WHEN status = 'held' THEN 1 ELSE 0 END), "
                                     "min(created_at), max(created_at) FROM response "
                                     "WHERE mode = 'kiosk'")).one()
        engine.dispose()
    stored, distinct, held, first, last = rows
    print(f"backend: {args.backend}; client: {args.client}; gunicorn: README production "
          f"settings")
    print(f"queued after a 10-hour outage: {args.evaluations}, of which {args.lost} already "
          f"stored (reply lost) and sent again")
    print(f"replayed in {seconds:.2f} s ({args.evaluations / seconds:.0f} evaluations/s)"
          + (f"; replies {dict(sorted(codes.items()))}" if codes else ""))
    print(f"stored: {stored} rows, {distinct} distinct UUIDs, {held or 0} held; answered "
          f"from {first} to {last}")
    if stored != args.evaluations or distinct != stored:
        raise SystemExit("FAILED: an evaluation was lost or stored twice")
    print("OK: every evaluation stored exactly once")


if __name__ == "__main__":
    main()
