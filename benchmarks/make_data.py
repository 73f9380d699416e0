"""Generate a synthetic export of the app (one row per response) for the benchmarks.

Same columns as the app's CSV export, 63 strata (provinces) × 40 PSUs (hamlets), 22
criteria in 5 elements coded 1–5, 4 % missing (half empty = not asked, half 9 = no answer).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

ELEMENTS = {"I": 5, "II": 4, "III": 5, "IV": 4, "V": 4}
ITEMS = [f"{e}_{i + 1}" for e, k in ELEMENTS.items() for i in range(k)]
META = ["response_id", "instrument", "instrument_version", "round", "mode", "status",
        "outcome", "province", "district", "commune", "hamlet", "stratum", "psu",
        "prob_stage1", "prob_stage2", "weight", "questionnaire_id", "enumerator", "desk",
        "created_at"]


def element_options() -> list[str]:
    """The --element options for these items."""
    out, pos = [], 0
    for e, k in ELEMENTS.items():
        out.append(f"{e}=" + ",".join(ITEMS[pos:pos + k]))
        pos += k
    return out


def generate(path: Path, n: int, strata: int = 63, psus: int = 40, seed: int = 1,
             minimal: bool = False) -> None:
    """Write ``n`` rows; ``minimal`` keeps only the design columns and the items."""
    rng = np.random.default_rng(seed)
    n_psu = strata * psus
    psu = np.sort(rng.integers(0, n_psu, n))
    stratum = psu // psus
    p1 = rng.uniform(0.01, 0.05, n_psu)[psu]
    p2 = rng.uniform(0.002, 0.02, n_psu)[psu]
    cols: dict[str, pa.Array] = {
        "response_id": pa.array(np.char.add("r", np.arange(n).astype(str))),
        "instrument": pa.array(np.full(n, "sipas-services")),
        "instrument_version": pa.array(np.ones(n, dtype=np.int64)),
        "round": pa.array(np.full(n, "2025")),
        "mode": pa.array(np.full(n, "paper")),
        "status": pa.array(np.full(n, "verified")),
        "outcome": pa.array(np.full(n, "completed")),
        "province": pa.array(np.char.add("Tỉnh ", stratum.astype(str))),
        "district": pa.nulls(n, pa.string()),
        "commune": pa.array(np.char.add("Xã ", (psu // 4).astype(str))),
        "hamlet": pa.array(np.char.add("Thôn ", psu.astype(str))),
        "stratum": pa.array(np.char.add("P", stratum.astype(str))),
        "psu": pa.array(np.char.add("H", psu.astype(str))),
        "prob_stage1": pa.array(np.round(p1, 6)),
        "prob_stage2": pa.array(np.round(p2, 6)),
        "weight": pa.array(np.round(1 / (p1 * p2), 3)),
        "questionnaire_id": pa.array(np.arange(n) + 100000),
        "enumerator": pa.array(np.char.add("E", (psu % 97).astype(str))),
        "desk": pa.nulls(n, pa.string()),
        "created_at": pa.array(np.full(n, "2025-06-01T08:00:00")),
    }
    mood = rng.normal(0, 0.5, n_psu)[psu]
    for item in ITEMS:
        score = np.clip(np.rint(rng.normal(3.9, 1.0, n) + mood), 1, 5).astype(np.int64)
        u = rng.uniform(size=n)
        score[u < 0.02] = 9
        cols[item] = pa.array(score, mask=u > 0.98)
    if minimal:
        cols = {c: cols[c] for c in ["stratum", "psu", "weight", *ITEMS]}
    path.parent.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(pa.table(cols), path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("path", type=Path)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--psus", type=int, default=40, help="PSUs per stratum (63 strata)")
    ap.add_argument("--minimal", action="store_true",
                    help="only stratum, psu, weight and the items")
    args = ap.parse_args()
    generate(args.path, args.rows, psus=args.psus, minimal=args.minimal)


if __name__ == "__main__":
    main()
