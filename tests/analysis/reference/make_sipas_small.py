"""Generate sipas_small.csv: a small synthetic SIPAS sample for the R comparison tests.

Stratified two-stage-like layout: 5 strata of 3–4 hamlets (PSUs) plus a stratum 'S6' with a
single PSU (lonely under ``stratum``; merged into S5 under ``stratum2``). Items are coded
1–5 with empty (not asked) and 9 (no answer); element V has no valid answers in district
D3. Run once; the CSV is committed and R reads the same file.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

ITEMS = {"I": ["I1", "I2", "I3"], "II": ["II1", "II2"], "V": ["V1", "V2"]}


def main() -> None:
    rng = np.random.default_rng(20250701)
    rows = []
    psu_no = 0
    layout = [("S1", 4), ("S2", 4), ("S3", 3), ("S4", 4), ("S5", 3), ("S6", 1)]
    for stratum, n_psu in layout:
        for _ in range(n_psu):
            psu_no += 1
            mood = rng.normal(0, 0.6)
            for _ in range(int(rng.integers(8, 15))):
                district = str(rng.choice(["D1", "D2", "D3"], p=[0.45, 0.35, 0.2]))
                row = {"stratum": stratum, "stratum2": "S5" if stratum == "S6" else stratum,
                       "psu": f"H{psu_no:02d}", "district": district,
                       "weight": round(float(rng.uniform(20, 80)), 3),
                       "fpc": {"S1": 40, "S2": 25, "S3": 30, "S4": 12, "S5": 50, "S6": 9}[
                           stratum]}
                for item in [c for cs in ITEMS.values() for c in cs]:
                    score = int(np.clip(np.round(rng.normal(3.8 + mood, 1.0)), 1, 5))
                    u = rng.uniform()
                    value: object = score
                    if u < 0.06:
                        value = ""
                    elif u < 0.10:
                        value = 9
                    if item.startswith("V") and district == "D3":
                        value = ""
                    row[item] = value
                rows.append(row)
    out = Path(__file__).with_name("sipas_small.csv")
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} rows -> {out}")


if __name__ == "__main__":
    main()
