"""Export speed at scale: ~1,000,000 stored answers to CSV.

Run: ``.venv/bin/python benchmarks/bench_export.py [--responses 30000] [--database-url URL]``
(default: a fresh SQLite file in a temporary folder). Prints the load and export figures.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import Session

from survey.db import make_engine
from survey.migrate import upgrade_database
from survey.models import Answer, Response
from survey.services.data.export import ExportFilter, export_csv
from survey.services.instruments import latest_version, publish_forms_dir
from survey.services.instruments_text import parse_stored


def load(engine, n: int, seed: int = 1) -> int:  # type: ignore[no-untyped-def]
    """Bulk-insert ``n`` household responses; return the number of answers."""
    rng = random.Random(seed)
    with Session(engine) as session:
        publish_forms_dir(session)
        version = latest_version(session, "sipas_services")
        codes = [i.code for i in parse_stored(version.source_text).questions
                 if i.type in ("scale", "select_one")]
        session.commit()
        version_id = version.id
    answers = 0
    batch = 2000
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for start in range(0, n, batch):
            rows = [
                {"client_uuid": uuid.UUID(int=rng.getrandbits(128)), "content_hash": "x" * 64,
                 "instrument_version_id": version_id, "mode": "paper", "status": "verified",
                 "outcome": "completed", "stratum": f"S{k % 63:02d}", "psu": f"P{k % 2520:04d}",
                 "prob_stage1": 0.1, "prob_stage2": 0.05, "weight": 200.0,
                 "questionnaire_id": f"Q{k:07d}", "created_at": now, "updated_at": now}
                for k in range(start, min(n, start + batch))
            ]  # fmt: skip
            ids = conn.execute(insert(Response).returning(Response.id), rows).scalars().all()
            answer_rows = [
                {"response_id": rid, "item_code": code, "value_num": float(rng.randint(1, 5))}
                for rid in ids for code in codes
            ]
            conn.execute(insert(Answer), answer_rows)
            answers += len(answer_rows)
    return answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--responses", type=int, default=30000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = make_engine(url)
        upgrade_database(engine)
        t0 = time.perf_counter()
        answers = load(engine, args.responses)
        t1 = time.perf_counter()
        out = Path(tmp) / "export.csv"
        with Session(engine) as session:
            rows = export_csv(session, ExportFilter(status="verified"), out)
        t2 = time.perf_counter()
        size = out.stat().st_size / 1e6
        engine.dispose()
    print(f"database: {url.split(':')[0]}")
    print(f"load:   {args.responses} responses, {answers} answers in {t1 - t0:.1f} s")
    print(f"export: {rows} rows, {size:.1f} MB CSV in {t2 - t1:.2f} s "
          f"({answers / (t2 - t1) / 1e6:.2f} M answers/s)")


if __name__ == "__main__":
    main()
