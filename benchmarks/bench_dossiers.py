"""Importing dossiers at a province's yearly size: 100,000 rows from a one-stop export.

Run: ``.venv/bin/python benchmarks/bench_dossiers.py [--rows 100000]
[--backend sqlite|postgresql]``.
Writes a CSV with Vietnamese headers as one-stop systems export them (40 desks, dates as
``dd/mm/yyyy HH:MM``), then times ``sipas dossiers import`` on a fresh instance under
``/usr/bin/time -v`` (start-up included): first import (all new), the same file again
(all unchanged), and the push API with 1,000 dossiers a call for the first 10,000. Prints
wall time, rows per second and peak memory.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throwaway import BIN, instance_env, throwaway_instance  # noqa: E402

HEADER = ("Mã hồ sơ,Mã thủ tục,Tên thủ tục,Lĩnh vực,Cơ quan,Mã bộ phận,Ngày tiếp nhận,"
          "Ngày hẹn trả,Ngày trả kết quả,Cán bộ tiếp nhận")
PROCEDURES = [("1.001612", "Đăng ký khai sinh", "Hộ tịch"),
              ("1.004227", "Chứng thực bản sao từ bản chính", "Chứng thực"),
              ("1.000894", "Cấp giấy phép xây dựng", "Xây dựng"),
              ("2.000889", "Đăng ký biến động đất đai", "Đất đai")]


def write_csv(path: Path, rows: int, desks: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        out.write("\ufeff" + HEADER + "\n")
        for k in range(rows):
            code, name, field = rng.choice(PROCEDURES)
            day, month = rng.randint(1, 28), rng.randint(1, 12)
            late = rng.random() < 0.1
            out.write(f"000.00.12.H12-2025{month:02d}{day:02d}-{k:06d},{code},{name},{field},"
                      f"UBND xã {k % desks},MC-{k % desks:03d},{day:02d}/{month:02d}/2025 08:15,"
                      f"{min(day + 3, 28):02d}/{month:02d}/2025 16:00,"
                      f"{min(day + (5 if late else 2), 28):02d}/{month:02d}/2025 10:00,"
                      f"CB{k % 97:03d}\n")


def timed(env: dict[str, str], *args: str) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) and output of one ``sipas`` run."""
    done = subprocess.run(["/usr/bin/time", "-v", str(BIN / "sipas"), *args], env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", done.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    assert wall and rss
    hours, minutes, seconds = wall.groups()
    return (int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds),
            int(rss.group(1)) / 1024, done.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--desks", type=int, default=40)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-admin-url",
                        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, \
            throwaway_instance(args.backend, args.pg_admin_url) as (folder, url):
        env = instance_env(folder, url)
        subprocess.run([str(BIN / "sipas"), "init"], env=env, check=True, capture_output=True)
        for k in range(args.desks):
            subprocess.run([str(BIN / "sipas"), "desk", "add", "--code", f"MC-{k:03d}",
                            "--name", f"Bộ phận Một cửa xã {k}"], env=env, check=True,
                           capture_output=True)
        data = Path(tmp) / "ho-so.csv"
        write_csv(data, args.rows, args.desks)
        size = data.stat().st_size / 1e6
        print(f"{args.backend}: {args.rows:,} dossiers, {size:.1f} MB CSV, {args.desks} desks")
        for label in ("first import (all new)", "same file again (all unchanged)"):
            wall, rss, said = timed(env, "dossiers", "import", str(data))
            print(f"  {label}: {wall:.1f} s ({args.rows / wall:,.0f} rows/s), peak "
                  f"{rss:.0f} MB — {said}")
        print(f"  push API: {push(folder, url, args.desks):.1f} s for 10,000 dossiers "
              "(10 calls of 1,000, all new)")


def push(folder: Path, url: str, desks: int) -> float:
    """10 calls of 1,000 new dossiers through the Flask test client (no network)."""
    import os

    os.environ.update(SIPAS_INSTANCE=str(folder), DATABASE_URL=url)
    from sqlmodel import Session, select

    from survey.app import create_app
    from survey.models import User
    from survey.services.api.tokens import create_token
    from survey.services.users import create_user

    app = create_app()
    app.config["API_LIMIT"] = "100000 per minute"
    with Session(app.extensions["sipas_engine"]) as session:
        user = session.exec(select(User).where(User.username == "bench-push")).first() or \
            create_user(session, "bench-push", "supervisor", "bench push password 1")
        token = create_token(session, user, "bench", 1).secret
        session.commit()
    client = app.test_client()
    started = time.perf_counter()
    for call in range(10):
        body = {"dossiers": [{"code": f"PUSH-{call}-{k:05d}", "procedure_code": "1.001612",
                              "desk": f"MC-{k % desks:03d}", "received_at": "25/09/2025 08:15",
                              "due_at": "26/09/2025 16:00"} for k in range(1000)]}
        reply = client.post("/api/v1/dossiers", data=json.dumps(body), headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        assert reply.status_code == 200, reply.get_data(as_text=True)[:300]
    took = time.perf_counter() - started
    app.extensions["sipas_engine"].dispose()
    return took


if __name__ == "__main__":
    main()
