"""Benchmark: the whole ``sipas index ... --by stratum --format json`` process on 1,000,000 rows.

    .venv/bin/python benchmarks/bench_index.py [--rows N] [--repeat K]
    .venv/bin/python benchmarks/bench_index.py --rows 10080000 --psus 400 --minimal --goal 10

Generates the data once (benchmarks/data/, git-ignored), then runs the command in a fresh
process under ``/usr/bin/time -v`` so that start-up, CSV parsing and JSON output all count,
and prints wall time and peak RSS. Goals on a 2-core machine: ≤ 2 s and < 2 GB for 1M rows
(the export's columns); ≤ 10 s and ≤ 2 GB for 10,080,000 rows of 63 strata × 400 PSUs with
only the design columns and the 22 items (issue 14's national file, 675 MB).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_data import element_options, generate  # noqa: E402


def command(path: Path) -> list[str]:
    sipas = Path(sys.executable).with_name("sipas")
    cmd = [str(sipas), "index", str(path)]
    for e in element_options():
        cmd += ["--element", e]
    return cmd + ["--weight", "weight", "--strata", "stratum", "--psu", "psu",
                  "--by", "stratum", "--format", "json"]


def measure(path: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one run, from /usr/bin/time -v."""
    time_bin = shutil.which("time") or "/usr/bin/time"
    proc = subprocess.run([time_bin, "-v", *command(path)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"sipas index failed:\n{proc.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", proc.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    h, m, s = wall.groups()
    return int(h or 0) * 3600 + int(m) * 60 + float(s), int(rss.group(1)) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--psus", type=int, default=40, help="PSUs per stratum (63 strata)")
    ap.add_argument("--minimal", action="store_true",
                    help="only stratum, psu, weight and the items in the file")
    ap.add_argument("--goal", type=float, default=2.0, help="seconds")
    args = ap.parse_args()
    tail = ("" if args.psus == 40 else f"_p{args.psus}") + ("_min" if args.minimal else "")
    path = HERE / "data" / f"sipas_{args.rows}{tail}.csv"
    if not path.exists():
        print(f"generating {path} …", flush=True)
        generate(path, args.rows, psus=args.psus, minimal=args.minimal)
    size = path.stat().st_size / 1e6
    print(f"data: {path} ({args.rows:,} rows, {size:.0f} MB)")
    print("command:", " ".join(command(path)))
    runs = [measure(path) for _ in range(args.repeat)]
    for i, (wall, rss) in enumerate(runs, start=1):
        print(f"run {i}: wall {wall:.2f} s, peak RSS {rss:.0f} MB")
    best = min(w for w, _ in runs)
    peak = max(r for _, r in runs)
    ok = best <= args.goal and peak < 2048
    print(f"best wall {best:.2f} s, peak RSS {peak:.0f} MB — goal ≤ {args.goal:g} s, < 2048 MB: "
          f"{'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
