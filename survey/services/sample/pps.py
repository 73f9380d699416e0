"""PPS systematic selection: pure functions, no database, so they can be simulated fast.

Why systematic PPS: it gives each hamlet exactly the inclusion probability
``π_i = n · x_i / X`` (x its size, X the stratum total) with a fixed sample size, and
walking the frame in its geographic order spreads the sample across communes (implicit
stratification). A hamlet whose size would make ``π ≥ 1`` (or ``π ≥`` a lower certainty
threshold) is taken with certainty and removed; the rest are drawn with the remaining
``n``, repeated until no unit crosses the threshold (Cochran 1977, §9A; Särndal et al.
1992, §3.6).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Probabilities:
    """Inclusion probability of each unit, and which are certainty units."""

    pi: tuple[float, ...]
    certainty: tuple[bool, ...]


def inclusion_probabilities(
    sizes: Sequence[float], n: int, threshold: float = 1.0
) -> Probabilities:
    """π of each unit under PPS of ``n`` units, certainty units removed iteratively."""
    if n < 1:
        raise ValueError(f"the number of units to draw must be at least 1, got {n}")
    if n > len(sizes):
        raise ValueError(f"cannot draw {n} units from {len(sizes)}")
    if not 0 < threshold <= 1:
        raise ValueError(f"the certainty threshold must be in (0, 1], got {threshold}")
    if any(not (math.isfinite(x) and x > 0) for x in sizes):
        raise ValueError("every measure of size must be positive")
    certain = [False] * len(sizes)
    while True:
        rest = [i for i, c in enumerate(certain) if not c]
        take = n - (len(sizes) - len(rest))
        total = sum(sizes[i] for i in rest)
        new = [i for i in rest if take > 0 and take * sizes[i] / total >= threshold]
        if not new:
            break
        for i in new:
            certain[i] = True
    take = n - sum(certain)
    total = sum(sizes[i] for i, c in enumerate(certain) if not c)
    pi = tuple(1.0 if c else (take * x / total if take else 0.0)
               for x, c in zip(sizes, certain, strict=True))
    return Probabilities(pi, tuple(certain))


def pps_systematic(
    sizes: Sequence[float], n: int, rng: random.Random, threshold: float = 1.0
) -> list[int]:
    """Indices of the ``n`` selected units, in frame order.

    Certainty units first, then one random start ``u ∈ [0, k)`` with ``k = X'/n'`` over the
    cumulated sizes of the others: unit i is selected when a point ``u + j·k`` falls in its
    interval. As every remaining ``π < 1``, no unit is hit twice.
    """
    probs = inclusion_probabilities(sizes, n, threshold)
    chosen = [i for i, c in enumerate(probs.certainty) if c]
    rest = [i for i, c in enumerate(probs.certainty) if not c]
    take = n - len(chosen)
    if take:
        total = sum(sizes[i] for i in rest)
        step = total / take
        point = rng.uniform(0, step)
        cumulative = 0.0
        for i in rest:
            cumulative += sizes[i]
            if point < cumulative:
                chosen.append(i)
                point += step
                if len(chosen) == n:
                    break
        if len(chosen) < n and rest[-1] not in chosen:  # float noise at the very end
            chosen.append(rest[-1])
    return sorted(chosen)


def stratum_rng(seed: int, stratum: str) -> random.Random:
    """A generator per stratum, so one stratum's draw does not shift when another changes."""
    return random.Random(f"sipas:{seed}:{stratum}")
