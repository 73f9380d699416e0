"""The API under many generated calls, and how fast its pages read the data.

Run: ``.venv/bin/python benchmarks/fuzz_api.py [--examples 300] [--responses N]
[--database-url URL]`` (default: the demo province in a fresh SQLite file; ``--responses``
adds that many household questionnaires before the paging is timed). schemathesis calls
every operation of ``/api/v1/openapi.json`` with ``--examples`` generated inputs each (valid
and invalid) and every check it has: no 5xx, statuses and bodies as documented, the token
enforced. Then it pages every response through the REST API and the OData feed, and
prints rows per second beside the CSV export of the same rows.
``tests/api/test_openapi.py`` runs the same with 25 examples.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def run_schemathesis(app: Any, token: str, examples: int) -> list[str]:
    """Every operation against the app with ``examples`` generated cases; the operations."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    ran = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def call(case) -> None:  # type: ignore[no-untyped-def]
            # every check schemathesis has: no 5xx, status and body as documented, the
            # content type, and the token enforced (it replays without it and with a bad one)
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"})

        call()
        ran.append(f"{operation.method.upper()} {operation.path}")
    return ran


def _paged(client: Any, url: str, token: str, key: str, link: str) -> int:
    rows = 0
    while url:
        body = client.get(url, headers={"Authorization": f"Bearer {token}"}).get_json()
        rows += len(body[key])
        url = body.get(link)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=300)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--responses", type=int, default=0,
                        help="Add this many verified household responses before paging.")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="sipas-fuzz-api-"))
    (folder / "config.py").write_text(f"SECRET_KEY = {os.urandom(16).hex()!r}\n")
    url = args.database_url or f"sqlite:///{folder / 'sipas.db'}"
    os.environ.update(SIPAS_INSTANCE=str(folder), DATABASE_URL=url)
    from sqlmodel import Session, select

    from survey.app import create_app
    from survey.migrate import upgrade_database
    from survey.models import User
    from survey.services.api.tokens import create_token
    from survey.services.data.export import ExportFilter, export_csv
    from survey.services.demo import build_demo
    from survey.services.instruments import publish_forms_dir

    app = create_app()
    engine = app.extensions["sipas_engine"]
    upgrade_database(engine)
    with Session(engine) as session:
        publish_forms_dir(session)
        build_demo(session, secret=os.urandom(32))
        analyst = session.exec(select(User).where(User.role == "analyst")).first()
        assert analyst is not None
        token = create_token(session, analyst, "fuzz", 1).secret
        session.commit()
    if args.responses:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bench_export import load

        load(engine, args.responses)
    app.config["API_LIMIT"] = "1000000 per minute"
    started = time.perf_counter()
    ran = run_schemathesis(app, token, args.examples) if args.examples else []
    took = time.perf_counter() - started
    print(f"schemathesis: {len(ran)} operations × {args.examples} examples, every check, "
          f"no failure, {took:.1f} s")
    client = app.test_client()
    for label, path, key, link in (
            ("REST /api/v1/responses", "/api/v1/responses?limit=1000", "items", "next"),
            ("OData sipas_services", "/odata/v1/sipas_services", "value", "@odata.nextLink")):
        started = time.perf_counter()
        rows = _paged(client, path, token, key, link)
        took = time.perf_counter() - started
        print(f"{label}: {rows} rows in {took:.2f} s ({rows / took:,.0f} rows/s)")
    with Session(engine) as session:
        started = time.perf_counter()
        rows = export_csv(session, ExportFilter(), folder / "all.csv")
        took = time.perf_counter() - started
    print(f"CSV export of the same: {rows} rows in {took:.2f} s ({rows / took:,.0f} rows/s)")
    engine.dispose()


if __name__ == "__main__":
    main()
