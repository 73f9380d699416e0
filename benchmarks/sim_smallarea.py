"""Coverage of Fay–Herriot model intervals, by simulation with known truth (issue 19).

Run: ``.venv/bin/python benchmarks/sim_smallarea.py [--reps 2000]``

For each setting (number of areas; SD of the area effects against sampling variances drawn
from 0.002–0.012, as two-PSU communes have), ``--reps`` samples: true values from the model,
direct estimates with their sampling error, the REML EBLUP and its Prasad–Rao MSE
(``analysis.smallarea``, equal to R's sae). Prints how often the 95 % intervals
``EBLUP ± 1.96·√MSE`` and the direct ``y ± 1.96·√ψ`` hold the truth, their mean widths, the
ratio of the mean estimated MSE to the empirical one, and how often REML put A at 0.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.smallarea import fay_herriot  # noqa: E402

SETTINGS = [(20, 0.05), (40, 0.05), (40, 0.08), (100, 0.05), (100, 0.02), (400, 0.05)]


def simulate(m: int, sd: float, reps: int, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    x = np.column_stack([np.ones(m), rng.uniform(0.55, 0.95, m)])
    psi = rng.uniform(0.002, 0.012, m)
    covered = direct = zero = 0
    width = direct_width = 0.0
    squared, estimated = np.zeros(m), np.zeros(m)
    for _ in range(reps):
        truth = x @ np.array([0.2, 0.7]) + rng.normal(0, sd, m)
        y = truth + rng.normal(0, np.sqrt(psi))
        fit = fay_herriot(y, psi, x)
        half = 1.959964 * np.sqrt(fit.mse)
        covered += int(np.sum(np.abs(fit.eblup - truth) <= half))
        direct += int(np.sum(np.abs(y - truth) <= 1.959964 * np.sqrt(psi)))
        width += float(np.mean(2 * half))
        direct_width += float(np.mean(2 * 1.959964 * np.sqrt(psi)))
        squared += (fit.eblup - truth) ** 2
        estimated += fit.mse
        zero += fit.refvar == 0
    n = m * reps
    return {"model": covered / n, "direct": direct / n, "width": width / reps,
            "direct_width": direct_width / reps, "mse_ratio": estimated.mean() / squared.mean(),
            "zero": zero / reps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    print("| areas | SD of area effects | model coverage | direct coverage | model width | "
          "direct width | est./empirical MSE | A = 0 |")
    print("|---|---|---|---|---|---|---|---|")
    for m, sd in SETTINGS:
        r = simulate(m, sd, args.reps, args.seed)
        print(f"| {m} | {sd} | {r['model']:.3f} | {r['direct']:.3f} | {r['width']:.3f} | "
              f"{r['direct_width']:.3f} | {r['mse_ratio']:.3f} | {r['zero']:.1%} |", flush=True)


if __name__ == "__main__":
    main()
