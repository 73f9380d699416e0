"""The dashboard in a real browser against the production server: when do its words and
its charts arrive?

Run: ``.venv/bin/python benchmarks/bench_dashboard_browser.py [--database-url URL]
[--period 2026-Q1] [--repeat 3]`` on a database ``bench_scale.py`` built (the default is
its one-province database, ``sipas_scale30``: 30,000 desk evaluations, 1,000 households;
``postgresql+psycopg://postgres@127.0.0.1:5432/sipas_scale`` is the national one).

The README's production command (``gunicorn -c python:survey.serving``: four warmed
workers, Redis) serves a fresh instance folder, so its report cache starts empty. Debian's
Chromium signs in as an analyst and opens the dashboard, as a person would:

1. **nothing kept**: the first dashboard the server draws (every estimate and chart);
2. **another reader**: a new browser (nothing in its cache) opens the same dashboard, which
   the server has kept;
3. **the same reader again**: the page is reloaded; the browser keeps the charts (their
   links name exactly what they draw), so only the page is asked for.

For each: how long the server's answer took (from the browser's request to the last byte,
the Navigation Timing API), when the page's words and tables are there (``DOMContentLoaded``,
from the navigation) and when the last of its charts is drawn in the browser. Prints the
median of ``--repeat`` fresh servers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from throwaway import free_port, gunicorn, instance_env  # noqa: E402

PASSWORD = "mật khẩu đủ dài 123"
WARM_UP_SECONDS = 8  # the four workers load the engine, fonts and templates first
ALL_CHARTS = ("[...document.querySelectorAll('figure.chart img')]"
              ".every(i => i.complete && i.naturalWidth > 0)")


def _analyst(url: str) -> str:
    """An analyst account in the benchmark's database (made once)."""
    from sqlmodel import Session

    from survey.db import make_engine
    from survey.services.users import create_user

    engine = make_engine(url)
    with Session(engine) as session:
        try:
            create_user(session, "bench_browser", "analyst", PASSWORD)
            session.commit()
        except Exception:  # noqa: BLE001 - made by an earlier run
            session.rollback()
    engine.dispose()
    return "bench_browser"


def _open(browser, base: str, user: str, path: str):  # type: ignore[no-untyped-def]
    """A new browser (empty cache), signed in. It lands on the home page: an analyst's
    sign-in otherwise opens the dashboard itself, which would then be drawn before the
    measured visit."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(base + "/auth/login?next=/")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()
    return context, page


def _timed(page, go) -> tuple[float, float, float, int]:  # type: ignore[no-untyped-def]
    """Seconds until the server's answer is in (its last byte), until the page's words
    are there (``DOMContentLoaded``), until its last chart is drawn, and how many charts
    it has."""
    start = time.perf_counter()
    go()
    words = time.perf_counter() - start
    while not page.evaluate(ALL_CHARTS):  # polled from here: the page's CSP forbids eval
        if time.perf_counter() - start > 120:
            raise RuntimeError("the charts did not arrive in 120 s")
        time.sleep(0.01)
    drawn = time.perf_counter() - start
    timing = page.evaluate("(() => { const n = performance.getEntriesByType('navigation')[0];"
                           " return [n.requestStart, n.responseEnd]; })()")
    return (timing[1] - timing[0]) / 1000, words, drawn, page.locator("figure.chart img").count()


def one_server(url: str, period: str, user: str
               ) -> dict[str, tuple[float, float, float, int]]:
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="sipas-browser-"))
    (folder / "config.py").write_text(f"SECRET_KEY = {uuid.uuid4().hex * 2!r}\n")
    port = free_port()
    env = instance_env(folder, url, f"http://127.0.0.1:{port}")
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    env.update(SIPAS_LANG="vi", SIPAS_REPORT_CACHE=str(folder / "cache"))
    path = f"/reports/?period={period}"
    out: dict[str, tuple[float, float, float, int]] = {}
    with gunicorn(env, port, 4, ["-c", "python:survey.serving", "--log-level", "warning"]):
        time.sleep(WARM_UP_SECONDS)
        base = f"http://127.0.0.1:{port}"
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                         args=["--no-sandbox", "--disable-gpu"])
            try:
                first, page = _open(browser, base, user, path)
                out["nothing kept"] = _timed(page, lambda: page.goto(
                    base + path, wait_until="domcontentloaded", timeout=120_000))
                other, again = _open(browser, base, user, path)
                out["another reader"] = _timed(again, lambda: again.goto(
                    base + path, wait_until="domcontentloaded"))
                out["the same reader again"] = _timed(again, lambda: again.reload(
                    wait_until="domcontentloaded"))
                first.close()
                other.close()
            finally:
                browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/sipas_scale30"))
    parser.add_argument("--period", default="2026-Q1")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    user = _analyst(args.database_url)
    runs = [one_server(args.database_url, args.period, user) for _ in range(args.repeat)]
    print(f"{args.database_url.rsplit('/', 1)[-1]}, period {args.period}, "
          f"{runs[0]['nothing kept'][3]} charts; median of {len(runs)} fresh servers")
    print("| case | the server's answer | words and tables | last chart drawn |")
    print("|---|---|---|---|")
    for case in runs[0]:
        answer, words, drawn = (statistics.median(r[case][k] for r in runs) for k in range(3))
        spread = ", ".join("/".join(f"{v:.2f}" for v in r[case][:3]) for r in runs)
        print(f"| {case} | {answer:.2f} s | {words:.2f} s | {drawn:.2f} s |   (runs: {spread})")


if __name__ == "__main__":
    main()
