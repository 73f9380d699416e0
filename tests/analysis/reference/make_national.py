"""Generate national_small.csv: three provinces' samples put together, for the national index.

Each province has its own strata, and their codes repeat across provinces ("S1", "S2"), as
do PSU codes across strata: the national design is provinces as strata with each province's
design nested inside (R: ``strata = ~interaction(province, stratum), nest = TRUE``). Items
are coded 1–5 with empty (not asked) and 9 (no answer); the provinces differ in level. Run
once; the CSV is committed and R reads the same file.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

ITEMS = {"I": ["I1", "I2", "I3"], "II": ["II1", "II2"], "V": ["V1", "V2"]}
PROVINCES = {"Tây Ninh": (0.3, [3, 4]), "Cà Mau": (-0.2, [4, 3, 3]), "Lai Châu": (0.0, [5, 4])}


def main() -> None:
    rng = np.random.default_rng(20251201)
    rows = []
    for province, (shift, layout) in PROVINCES.items():
        for s, n_psu in enumerate(layout, start=1):
            for p in range(1, n_psu + 1):
                mood = rng.normal(shift, 0.5)
                for _ in range(int(rng.integers(6, 12))):
                    row: dict[str, object] = {
                        "province": province, "stratum": f"S{s}", "psu": f"P{p}",
                        "weight": round(float(rng.uniform(30, 120)), 3)}
                    for item in [c for cs in ITEMS.values() for c in cs]:
                        score = int(np.clip(np.round(rng.normal(3.9 + mood, 1.0)), 1, 5))
                        u = rng.uniform()
                        row[item] = "" if u < 0.05 else 9 if u < 0.09 else score
                    rows.append(row)
    out = Path(__file__).with_name("national_small.csv")
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} rows to {out}")


if __name__ == "__main__":
    main()
