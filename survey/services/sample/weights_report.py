"""What a supervisor checks before publishing: the current weights version and its spread.

Read back from the stored version (its options and summary) and its per-response weights,
so the screen shows exactly the weights that a publication would freeze.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlmodel import Session, select

from survey.models import SurveyRound
from survey.models_sample import ResponseWeight, WeightsVersion

QUANTILES = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)


@dataclass(frozen=True)
class WeightsReport:
    """The round's current weights version, its summary and the weights' quantiles."""

    version: int
    computed_at: datetime
    options: dict[str, Any]
    summary: dict[str, Any]
    quantiles: tuple[tuple[float, float], ...]  # (probability, weight)
    max_to_median: float | None


def current_weights(session: Session, round_: SurveyRound) -> WeightsReport | None:
    """None when the round has no weights yet."""
    version = session.exec(select(WeightsVersion).where(
        WeightsVersion.round_id == round_.id,
        WeightsVersion.version == round_.weights_version)).first()
    if version is None or version.id is None:
        return None
    weights = np.array([w for w in session.exec(
        select(ResponseWeight.weight).where(ResponseWeight.version_id == version.id,
                                            ResponseWeight.weight.is_not(None)))  # type: ignore[union-attr]
    ], dtype=float)
    quantiles: tuple[tuple[float, float], ...] = ()
    ratio = None
    if weights.size:
        quantiles = tuple(zip(QUANTILES, np.quantile(weights, QUANTILES).tolist(), strict=True))
        median = float(np.median(weights))
        ratio = float(weights.max() / median) if median > 0 else None
    return WeightsReport(version.version, version.created_at, dict(version.options or {}),
                         dict(version.summary or {}), quantiles, ratio)
