"""The national demo at its real size: how long it takes to build, and how fast the
ministry's and a province's dashboards are on it.

Run: ``.venv/bin/python benchmarks/bench_national.py [--evaluations 300000]``.

A throw-away PostgreSQL database gets ``sipas init --demo national`` (34 provinces, the
national round, the desk evaluations, written as the command writes them). Then each
dashboard is one process of its own under ``/usr/bin/time -v`` (peak memory includes
Python and the app), as a signed-in reader: the ministry's analyst (the whole country: 34
provinces ranked, 136 desks) and a province's analyst (Thành phố Hồ Chí Minh: its part of
the round as a domain, its 4 desks). The first run finds nothing kept ("nothing kept":
every estimate and chart computed, as after new data arrive); the later runs are new
processes that find the first run's results on disk, as another worker would.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scale import measure  # noqa: E402
from throwaway import DEFAULT_PG, throwaway_instance  # noqa: E402

PERIOD = "2026-Q1"
PAGE = r"""
import re, sys, time
from sqlmodel import Session, select
from survey.app import create_app
from survey.models import AdminUnit
from survey.services.users import create_user, find_user
app = create_app({"DATABASE_URL": sys.argv[1], "TESTING": False, "SECRET_KEY": "b" * 32})
name, area = sys.argv[2], sys.argv[3]
with Session(app.extensions["sipas_engine"]) as s:
    if find_user(s, name) is None:
        unit = s.exec(select(AdminUnit).where(AdminUnit.code == area)).first() if area else None
        create_user(s, name, "analyst", "mật khẩu đủ dài 123",
                    scope_unit_id=unit.id if unit else None)
        s.commit()
c = app.test_client()
page = c.get("/auth/login").get_data(as_text=True)
tok = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
assert c.post("/auth/login", data={"username": name, "password": "mật khẩu đủ dài 123",
              "csrf_token": tok}).status_code == 302
t = time.perf_counter()
r = c.get("/reports/?period=%s")
took = time.perf_counter() - t
assert r.status_code == 200, r.status_code
print(f"SECONDS {took:.3f} BYTES {len(r.data)} PROVINCES "
      f"{len(re.findall(r'id=.table-province', r.get_data(as_text=True)))}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluations", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG)
    args = parser.parse_args()
    with throwaway_instance("postgresql", args.pg_admin_url, prefix="sipas-national") as (
            folder, url):
        env = dict(os.environ, DATABASE_URL=url, SIPAS_INSTANCE=str(folder))
        env.pop("REDIS_URL", None)
        t = time.perf_counter()
        built = subprocess.run(["/usr/bin/time", "-v", str(Path(sys.executable).parent / "sipas"),
                                "init", "--demo", "national", "--evaluations",
                                str(args.evaluations)], capture_output=True, text=True,
                               env=env)
        took = time.perf_counter() - t
        if built.returncode != 0:
            raise SystemExit(built.stderr[-3000:])
        peak = next((int(line.split(":")[1]) / 1024 for line in built.stderr.splitlines()
                     if "Maximum resident" in line), 0.0)
        print(f"sipas init --demo national --evaluations {args.evaluations:,}: "
              f"{took:.1f} s, peak {peak:.0f} MB")
        print(built.stdout.strip().splitlines()[-2])
        kept = Path(tempfile.mkdtemp(prefix="sipas-cache-"))
        env["SIPAS_REPORT_CACHE"] = str(kept)
        for label, user, area in (("ministry (34 provinces)", "bench_bo", ""),
                                  ("province 79 (its part, its desks)", "bench_t79", "79")):
            runs = [measure([sys.executable, "-c", PAGE.replace("%s", PERIOD), url, user, area],
                            env)
                    for _ in range(args.repeat)]
            later = runs[1:] or runs
            print(f"dashboard {PERIOD}, {label}: nothing kept {runs[0][0]:.2f} s; kept "
                  f"{statistics.median(r[0] for r in later):.2f} s; peak "
                  f"{max(r[1] for r in runs):.0f} MB")


if __name__ == "__main__":
    main()
