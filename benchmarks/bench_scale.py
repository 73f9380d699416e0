"""National scale on PostgreSQL: dashboard, printable report, index and exports.

Run: ``.venv/bin/python benchmarks/bench_scale.py [--sizes 30000:1000,1000000:37000]
[--database-url postgresql://127.0.0.1/sipas_scale] [--repeat 3]``

For each size ``EVALUATIONS:HOUSEHOLDS`` a fresh database gets the app's own schema
(Alembic), 500 desks in 40 agencies, the evaluations spread over one quarter (2026-Q1) and
two modes, and one round of verified household questionnaires in 20 districts × 5 communes ×
4 hamlets. Evaluations are bulk-loaded with COPY with the tally triggers off, then the
tallies are rebuilt from the rows (timed: what an administrator does after a bulk load).
Each measurement runs in its own process under ``/usr/bin/time -v`` (peak memory is the
process's, Python and the app included): the dashboard page through the Flask app as a
signed-in analyst, ``sipas report`` (PDF), ``sipas index --db`` and ``sipas export`` of the
quarter's desk evaluations as CSV and XLSX. Prints the median wall time and the peak memory;
for the dashboard, the report and the index also the first run alone ("nothing kept": every estimate
and chart computed), the others reading what it kept on disk. The jobs share one cache folder, as
the workers and commands of one host do: the dashboard starts from nothing; the report and the
index find what the dashboard kept (the household estimates, the round as read). "index --db,
round never read" runs the index once more with a folder of its own (nothing read before it).
The dashboard's figure is its page; the seconds for the charts it links, asked for one after
another as a browser would after the page, are printed beside it.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import text
from sqlmodel import Session, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from survey.db import make_engine  # noqa: E402
from survey.migrate import upgrade_database  # noqa: E402
from survey.models import AdminUnit, Desk, Response, SurveyRound  # noqa: E402
from survey.services.geography import ensure_levels  # noqa: E402
from survey.services.instruments import latest_version, publish_forms_dir  # noqa: E402
from survey.services.instruments_text import parse_stored  # noqa: E402
from survey.services.reports import tallies  # noqa: E402

PERIOD = "2026-Q1"
ROUND = "2026"
DESKS, AGENCIES = 500, 40
TRIGGERS = (("response", "desk_tally_response_write"), ("response", "desk_tally_response_delete"),
            ("answer", "desk_tally_answer_insert"), ("answer", "desk_tally_answer_delete"),
            ("answer", "desk_tally_answer_update"))


def fresh_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0].replace("postgresql+psycopg", "postgresql") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _copy(conn: psycopg.Connection, table: str, columns: str, rows) -> None:  # type: ignore[no-untyped-def]
    with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def load_evaluations(conn: psycopg.Connection, evaluations: int, desk_ids: list[int],
                     version_id: int, items: list[str], rng: random.Random,
                     first_id: int = 1, signals: bool = False) -> None:
    """COPY ``evaluations`` received desk evaluations over 2026-Q1 (ids from ``first_id``),
    desks of very different sizes, 3 % of answers missing; with ``signals`` the hold-count
    rows each stored evaluation leaves too (keyed address from 50,000 phones). The tally
    triggers must be off (rebuild the tallies afterwards)."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    span = (datetime(2026, 4, 1, tzinfo=UTC) - start).total_seconds()
    # desks differ in size (a few big centres, many small commune desks)
    sizes = [rng.paretovariate(1.2) for _ in desk_ids]
    picks = rng.choices(desk_ids, weights=sizes, k=evaluations)
    ids = range(first_id, first_id + evaluations)
    moments = [start + timedelta(seconds=rng.random() * span) for _ in ids]
    _copy(conn, "response", "id, client_uuid, content_hash, instrument_version_id, mode, "
          "status, created_at, updated_at, desk_id",
          ((i, uuid.UUID(int=rng.getrandbits(128)), "x", version_id,
            "qr" if rng.random() < 0.8 else "paper", "received", m, m, d)
           for i, m, d in zip(ids, moments, picks, strict=True)))
    codes = [1, 2, 3, 4, 5]
    _copy(conn, "answer", "response_id, item_code, value_num",
          ((i, c, float(rng.choices(codes, weights=(4, 6, 15, 40, 35))[0]))
           for i in ids for c in items if rng.random() > 0.03))
    if signals:
        _copy(conn, "desk_signal", "response_id, desk_id, address_hash, pattern_hash, created_at",
              ((i, d, f"{rng.randrange(50_000):016x}", f"{rng.getrandbits(64):016x}", m)
               for i, m, d in zip(ids, moments, picks, strict=True)))


def build(url: str, evaluations: int, households: int, seed: int = 1) -> dict[str, float]:
    """Load one size; returns load timings."""
    fresh_database(url)
    engine = make_engine(url)
    upgrade_database(engine)
    rng = random.Random(seed)
    with Session(engine) as session:
        publish_forms_dir(session)
        desk_form = latest_version(session, "desk_evaluation")
        hh_form = latest_version(session, "sipas_services")
        levels = ensure_levels(session)
        province = AdminUnit(code="P01", name="Tỉnh Quy Mô", level_id=levels["province"].id)
        session.add(province)
        session.flush()
        hamlets: list[tuple[int, str, str]] = []  # id, stratum (district), psu (hamlet)
        for d in range(20):
            district = AdminUnit(code=f"D{d:02d}", name=f"Huyện {d:02d}",
                                 level_id=levels["district"].id, parent_id=province.id)
            session.add(district)
            session.flush()
            for c in range(5):
                commune = AdminUnit(code=f"C{d:02d}{c}", name=f"Xã {d:02d}-{c}",
                                    level_id=levels["commune"].id, parent_id=district.id)
                session.add(commune)
                session.flush()
                for h in range(4):
                    hamlet = AdminUnit(code=f"H{d:02d}{c}{h}", name=f"Ấp {d:02d}-{c}-{h}",
                                       level_id=levels["hamlet"].id, parent_id=commune.id)
                    session.add(hamlet)
                    session.flush()
                    hamlets.append((hamlet.id, f"D{d:02d}", hamlet.code))  # type: ignore[arg-type]
        desks = []
        for k in range(DESKS):
            desk = Desk(code=f"MC{k:03d}", name=f"Bộ phận Một cửa {k:03d}",
                        agency=f"Cơ quan {k % AGENCIES:02d}", admin_level="commune")
            session.add(desk)
            desks.append(desk)
        session.add(SurveyRound(code=ROUND, name="Năm 2026", year=2026))
        session.commit()
        round_id = session.exec(select(SurveyRound.id).where(SurveyRound.code == ROUND)).one()
        desk_ids = [d.id for d in desks]
        desk_items = [i.code for i in parse_stored(desk_form.source_text).items
                      if i.type == "scale"]
        hh_items = [i for i in parse_stored(hh_form.source_text).items
                    if i.type in ("scale", "select_one", "select_multiple")]
        desk_version, hh_version = desk_form.id, hh_form.id
    engine.dispose()
    raw = url.replace("postgresql+psycopg", "postgresql")
    t0 = time.perf_counter()
    with psycopg.connect(raw) as conn:
        for table, trigger in TRIGGERS:
            conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
        load_evaluations(conn, evaluations, desk_ids, desk_version, desk_items, rng)
        codes = [1, 2, 3, 4, 5]
        t1 = time.perf_counter()
        first = evaluations + 1
        hh_ids = range(first, first + households)
        homes = [rng.choice(hamlets) for _ in hh_ids]
        moment = datetime(2026, 2, 1, tzinfo=UTC)
        _copy(conn, "response", "id, client_uuid, content_hash, instrument_version_id, "
              "round_id, mode, status, outcome, created_at, updated_at, unit_id, stratum, psu, "
              "prob_stage1, prob_stage2, weight, questionnaire_id",
              ((i, uuid.UUID(int=rng.getrandbits(128)), "x", hh_version, round_id, "paper",
                "verified", "completed", moment, moment, h[0], h[1], h[2], 0.2, 0.1,
                50.0 + rng.random() * 10, f"26-{i:09d}")
               for i, h in zip(hh_ids, homes, strict=True)))

        def household_answers():  # type: ignore[no-untyped-def]
            for i in hh_ids:
                for item in hh_items:
                    if item.type == "select_multiple":
                        chosen = rng.sample(item.choices, min(2, len(item.choices)))
                        yield i, item.code, None, " ".join(str(c.code) for c in chosen)
                    elif item.type == "scale":
                        yield i, item.code, float(rng.choices(codes, (3, 5, 14, 45, 33))[0]), None
                    elif item.choices:
                        yield i, item.code, float(rng.choice(item.choices).code), None

        _copy(conn, "answer", "response_id, item_code, value_num, value_text", household_answers())
        conn.execute("SELECT setval(pg_get_serial_sequence('response', 'id'), "
                     f"{first + households})")
        for table, trigger in TRIGGERS:
            conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
        conn.commit()
        t2 = time.perf_counter()
        conn.execute("ANALYZE")
    engine = make_engine(url)
    with Session(engine) as session:
        t3 = time.perf_counter()
        tallies.rebuild(session)
        session.commit()
        t4 = time.perf_counter()
        total = session.exec(select(Response.id).where(Response.desk_id.is_not(None))  # type: ignore[union-attr]
                             .order_by(Response.id.desc()).limit(1)).one()  # type: ignore[union-attr]
        assert total == evaluations
        plan = "\n".join(r[0] for r in session.connection().execute(text(
            "EXPLAIN SELECT desk_id, mode, item_code, value_num, sum(n) FROM desk_answer_tally "
            "WHERE month IN ('2026-01', '2026-02', '2026-03') "
            "GROUP BY desk_id, mode, item_code, value_num")))
    engine.dispose()
    return {"load_evaluations": t1 - t0, "load_households": t2 - t1,
            "rebuild_tallies": t4 - t3, "plan": plan}  # type: ignore[dict-item]


DASHBOARD = r"""
import re, sys, time
from sqlmodel import Session
from survey.app import create_app
from survey.services.users import create_user
app = create_app({"DATABASE_URL": sys.argv[1], "TESTING": False, "SECRET_KEY": "b" * 32})
with Session(app.extensions["sipas_engine"]) as s:
    try:
        create_user(s, "bench_analyst", "analyst", "mật khẩu đủ dài 123")
        s.commit()
    except Exception:
        s.rollback()
class _Log:  # what gunicorn hands its hooks
    def info(self, *args): print("WARMUP", args[1] if len(args) > 1 else "")
    def warning(self, *args): print("WARMUP failed", *args)
class _Worker:
    log = _Log()
    wsgi = app
import os
if os.environ.get("SIPAS_WARM_UP", "1") != "0":  # as a production worker, before requests
    from survey.serving import post_worker_init
    post_worker_init(_Worker())
c = app.test_client()
page = c.get("/auth/login").get_data(as_text=True)
tok = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
assert c.post("/auth/login", data={"username": "bench_analyst", "password": "mật khẩu đủ dài 123",
              "csrf_token": tok}).status_code == 302
from html import unescape
def charts_of(page):
    # every chart the page links, asked for as the browser does after the page (here one
    # after another, on this one worker): seconds until the last one has arrived. The page
    # is closed first, as a server does once it is sent (what it held back is written)
    page.close()
    t = time.perf_counter()
    for src in re.findall(r'<img src="(/reports/charts/[^"]+)"', page.get_data(as_text=True)):
        got = c.get(unescape(src))
        assert got.status_code == 200 and got.data.startswith(b"<?xml"), got.status_code
    return time.perf_counter() - t
t = time.perf_counter()
r = c.get("/reports/?period=%s")
took = time.perf_counter() - t
assert r.status_code == 200, r.status_code
drawn = charts_of(r)
t = time.perf_counter()
again = c.get("/reports/?period=%s&min_n=29")  # a warm worker; new numbers, new charts
warm = time.perf_counter() - t
assert again.status_code == 200, again.status_code
again.close()
t = time.perf_counter()
c.get("/reports/?period=%s").close()
cached = time.perf_counter() - t
# New data, as a live service gets it: the same page after one more desk evaluation (at a
# desk picked at random, with answers at random: counts no earlier run kept, through the
# tally triggers), then after one household questionnaire is edited (its last change
# stamped). Each recomputes only what the new data touch.
from sqlalchemy import text as sql
with app.extensions["sipas_engine"].begin() as conn:
    old = conn.execute(sql("SELECT max(id) FROM response WHERE desk_id IS NOT NULL")).scalar()
    new = conn.execute(sql(
        "INSERT INTO response (client_uuid, content_hash, instrument_version_id, round_id, "
        "mode, status, outcome, created_at, updated_at, unit_id, desk_id) SELECT "
        "gen_random_uuid(), content_hash, instrument_version_id, round_id, mode, status, "
        "outcome, created_at, now(), unit_id, (SELECT id FROM desk ORDER BY random() LIMIT 1) "
        "FROM response WHERE id = :id RETURNING id"), {"id": old}).scalar()
    conn.execute(sql("INSERT INTO answer (response_id, item_code, value_num, value_text) "
                     "SELECT :new, item_code, floor(random() * 5) + 1, value_text FROM answer "
                     "WHERE response_id = :old"), {"new": new, "old": old})
try:
    t = time.perf_counter()
    after = c.get("/reports/?period=%s")
    evaluation = time.perf_counter() - t
    assert after.status_code == 200
    redrawn = charts_of(after)
finally:  # the database keeps its size (--reuse)
    with app.extensions["sipas_engine"].begin() as conn:
        conn.execute(sql("DELETE FROM response WHERE id = :id"), {"id": new})
with app.extensions["sipas_engine"].begin() as conn:
    conn.execute(sql("UPDATE response SET updated_at = now() WHERE id = (SELECT max(id) "
                     "FROM response WHERE round_id IS NOT NULL AND status = 'verified')"))
t = time.perf_counter()
edited = c.get("/reports/?period=%s")
questionnaire = time.perf_counter() - t
assert edited.status_code == 200
edited.close()
from survey.services.reports import round_data
round_data.wait_for_writes()  # the round this worker read, kept for the next one
print(f"SECONDS {took:.3f} WARM {warm:.3f} CACHED {cached:.3f} EVALUATION {evaluation:.3f} "
      f"QUESTIONNAIRE {questionnaire:.3f} BYTES {len(r.data)} CHARTS {drawn:.3f} "
      f"REDRAWN {redrawn:.3f}")
"""


def measure(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds (the child's own figure when it prints one) and peak RSS in MB."""
    t = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True,
                          env=env, cwd=ROOT)
    wall = time.perf_counter() - t
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} failed:\n{done.stdout[-2000:]}\n"
                           f"{done.stderr[-3000:]}")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    own = re.search(r"SECONDS ([\d.]+)", done.stdout)
    warm = re.search(r"WARM ([\d.]+) CACHED ([\d.]+) EVALUATION ([\d.]+) QUESTIONNAIRE "
                     r"([\d.]+)", done.stdout)
    drawn = re.search(r"CHARTS ([\d.]+) REDRAWN ([\d.]+)", done.stdout)
    if warm and drawn:
        print(f"    (fresh worker {own.group(1)} s, its charts {drawn.group(1)} s after it; "  # type: ignore[union-attr]
              f"warm worker, other numbers {warm.group(1)} s; same page again "
              f"{warm.group(2)} s; after one more desk evaluation {warm.group(3)} s, its "
              f"charts {drawn.group(2)} s after it; after a questionnaire is edited "
              f"{warm.group(4)} s)")
    return (float(own.group(1)) if own else wall), int(peak.group(1)) / 1024 if peak else 0.0


def _already(url: str, evaluations: int, households: int) -> bool:
    """Does the database hold exactly this size already (``--reuse``)?"""
    raw = url.replace("postgresql+psycopg", "postgresql")
    try:
        with psycopg.connect(raw) as conn:
            desk, home = conn.execute(
                "SELECT count(*) FILTER (WHERE desk_id IS NOT NULL), "
                "count(*) FILTER (WHERE round_id IS NOT NULL) FROM response").fetchone()
    except psycopg.Error:
        return False
    return (desk, home) == (evaluations, households)


def run_size(url: str, evaluations: int, households: int, repeat: int,
             reuse: bool = False, only: set[str] | None = None) -> dict[str, tuple]:
    if reuse and _already(url, evaluations, households):
        loads = {"load_evaluations": 0.0, "load_households": 0.0, "rebuild_tallies": 0.0,
                 "plan": "(database reused)"}
    else:
        loads = build(url, evaluations, households)
    # reports and charts kept on disk (survey/services/reports/cache.py) start empty: the
    # first run of each job computes everything, the later ones are new processes that may
    # read what the first one kept (as a restarted worker or another worker would)
    kept = Path(tempfile.mkdtemp(prefix="sipas-cache-"))
    env = dict(os.environ, DATABASE_URL=url, SIPAS_LANG="vi", SIPAS_REPORT_CACHE=str(kept))
    py, sipas = sys.executable, str(Path(sys.executable).parent / "sipas")
    out = Path(tempfile.mkdtemp())
    jobs = {
        "dashboard": [py, "-c", DASHBOARD % ((PERIOD,) * 5), url],
        "report PDF": [sipas, "report", "--period", PERIOD, "--round", ROUND,
                       "--out", str(out / "r.pdf")],
        "index --db": [sipas, "index", "--db", "--round", ROUND, "--instrument",
                       "sipas_services", "--format", "json"],
        "export CSV": [sipas, "export", "--instrument", "desk_evaluation", "--period", PERIOD,
                       "--out", str(out / "e.csv")],
        "export XLSX": [sipas, "export", "--format", "xlsx", "--instrument", "desk_evaluation",
                        "--period", PERIOD, "--out", str(out / "e.xlsx")],
    }
    results: dict[str, tuple] = {"load": (loads,)}
    for name, cmd in jobs.items():
        if only and name.split()[0] not in only:
            continue
        if name == "index --db":  # a command on a host where nothing has read the round yet
            alone = dict(env, SIPAS_REPORT_CACHE=tempfile.mkdtemp(prefix="sipas-cache-"))
            results[f"{name}, round never read"] = measure(cmd, alone)
        runs = [measure(cmd, env) for _ in range(repeat)]
        if name in ("dashboard", "report PDF", "index --db") and repeat > 1:
            results[f"{name}, nothing kept"] = (runs[0][0], runs[0][1])
            runs = runs[1:]
        results[name] = (statistics.median(r[0] for r in runs), max(r[1] for r in runs))
        for shown in [k for k in results if k.startswith(name)]:
            print(f"  {shown:30s} {results[shown][0]:8.2f} s {results[shown][1]:8.0f} MB",
                  flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="30000:1000,300000:11000,1000000:37000")
    parser.add_argument("--database-url",
                        default="postgresql+psycopg://postgres@127.0.0.1:5432/sipas_scale")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reuse", action="store_true",
                        help="keep the database when it already holds the size (one size)")
    parser.add_argument("--only", help="comma-separated: dashboard, report, index, export")
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None
    table = []
    for spec in args.sizes.split(","):
        ev, hh = (int(x) for x in spec.split(":"))
        print(f"{ev:,} desk evaluations, {hh:,} household questionnaires", flush=True)
        res = run_size(args.database_url, ev, hh, args.repeat, args.reuse, only)
        loads = res.pop("load")[0]
        print(f"  loaded in {loads['load_evaluations']:.0f} s + {loads['load_households']:.0f} s;"
              f" tallies rebuilt from the rows in {loads['rebuild_tallies']:.1f} s")
        print("  plan of the quarter's tally read:\n    " + loads["plan"].replace("\n", "\n    "))
        table.append((ev, hh, res))
    names = list(table[0][2])
    print("\n| desk evaluations | households | " + " | ".join(names) + " | peak memory |")
    print("|---" * (len(names) + 3) + "|")
    for ev, hh, res in table:
        cells = " | ".join(f"{res[n][0]:.2f} s" for n in names)
        peak = max(res[n][1] for n in names)
        print(f"| {ev:,} | {hh:,} | {cells} | {peak:.0f} MB |")


if __name__ == "__main__":
    main()
