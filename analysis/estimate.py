"""Means, proportions, totals and ratios with SE, df, deff and CIs, overall and by domain.

Results are frozen :class:`Estimate` rows, the same whatever produced them (``sipas
estimate``, ``sipas index`` or a Python caller), so reports and tests read one shape.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from math import isfinite

import numpy as np

from analysis.ci import intervals
from analysis.codes import Categorical, factorize
from analysis.design import Design
from analysis.engine import CodedIndicator, EngineResult, NumericIndicator, run, slots_of
from analysis.targets import verdicts


@dataclass(frozen=True)
class Estimate:
    """One estimate: the JSON object of the CLI contract (``None`` for missing numbers)."""

    name: str
    domain: dict[str, str]
    n: int
    estimate: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    df: int
    deff: float | None
    note: str = ""
    level: str | None = None  # criterion / element / overall for index rows
    proportion: bool = True
    target: float | None = None
    verdict: str | None = None
    p_value: float | None = None
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Domains:
    """Row codes of a ``--by`` column (or none: the whole sample only)."""

    column: str | None
    codes: np.ndarray | None
    labels: tuple[str, ...]

    @classmethod
    def of(cls, column: str | None, values: Categorical | np.ndarray | None) -> Domains:
        if column is None or values is None:
            return cls(None, None, ())
        cat = factorize(values)
        if not cat.labels:
            raise ValueError(f"domain column {column!r} is empty: no domain to estimate")
        return cls(column, cat.codes, cat.labels)

    def names(self) -> list[dict[str, str]]:
        return [{}] + [{self.column: lab} for lab in self.labels]


def _num(x: float) -> float | None:
    """A number for the output, or None where there is none (NaN, infinite): JSON's null,
    an empty CSV cell, never ``nan``. ``math.isfinite``: a national breakdown's tens of
    thousands of numbers come as Python floats (``tolist()``), not one NumPy call each."""
    return float(x) if isfinite(x) else None


def to_rows(
    res: EngineResult,
    names: Sequence[str],
    domains: Domains,
    proportion: Sequence[bool],
    method: str = "logit",
    level: float = 0.95,
    target: float | None = None,
    levels: Sequence[str | None] | None = None,
    notes: np.ndarray | None = None,
    design_rows: int | None = None,
    skip: np.ndarray | None = None,
    extras: Callable[[int, int], dict] | None = None,
) -> list[Estimate]:
    """Attach CIs and target verdicts and flatten to rows: whole sample first, then domains.

    ``design_rows``: all rows of a calibrated design (R's beta interval counts them).
    ``skip`` (domains × names, True: leave out) drops rows nobody reads: a breakdown of
    800 communes needs their element and overall rows, not 22 criteria each. ``extras(d,
    j)`` gives a row's ``extra`` (rows with an estimate only). Numbers are read from lists,
    not array by array: a national breakdown is tens of thousands of rows.
    """
    prop = np.broadcast_to(np.array(proportion, dtype=bool), res.estimate.shape)
    ci = intervals(res.estimate, res.se, res.df, res.n, method, level, prop, design_rows)
    ver = None
    if target is not None:
        ver = verdicts(res.estimate, res.se, res.df, res.n, ci.low, ci.high, target, method,
                       level, prop, design_rows)
    est_l, se_l, n_l, df_l, deff_l = (np.asarray(x).tolist() for x in (
        res.estimate, res.se, res.n, res.df, res.deff))
    low_l, high_l, note_l, prop_l = (np.asarray(x).tolist() for x in (
        ci.low, ci.high, ci.note, prop))
    verdict_l = p_l = None
    if ver is not None:
        verdict_l, p_l = np.asarray(ver.verdict).tolist(), np.asarray(ver.p_value).tolist()
    rows = []
    for d, dom in enumerate(domains.names()):
        for j, name in enumerate(names):
            if skip is not None and skip[d, j]:
                continue
            n = int(n_l[d][j])
            note = note_l[d][j] if n > 0 else "no valid answers"
            if notes is not None and notes[d, j]:
                note = f"{notes[d, j]}; {note}" if note else notes[d, j]
            est = _num(est_l[d][j]) if n > 0 else None
            rows.append(Estimate(
                name=name, domain=dom, n=n, estimate=est,
                se=_num(se_l[d][j]) if est is not None else None,
                ci_low=_num(low_l[d][j]), ci_high=_num(high_l[d][j]),
                df=int(df_l[d][j]), deff=_num(deff_l[d][j]), note=note or "",
                level=levels[j] if levels else None, proportion=bool(prop_l[d][j]),
                target=target, verdict=None if verdict_l is None else verdict_l[d][j],
                p_value=None if p_l is None else _num(p_l[d][j]),
                extra=extras(d, j) if extras is not None and n > 0 else {},
            ))
    return rows


def satisfied_indicator(name: str, values: np.ndarray, satisfied: Sequence[int],
                        valid: Sequence[int]) -> CodedIndicator:
    """0/1 over the valid codes (1 when satisfied); anything else is a missing answer."""
    bad = set(satisfied) - set(valid)
    if bad:
        raise ValueError(f"satisfied codes {sorted(bad)} are not among the valid codes")
    top = max(valid)
    slots = slots_of(values, top)
    numer, denom = np.zeros(top + 2), np.zeros(top + 2)
    denom[[c + 1 for c in valid]] = 1.0
    numer[[c + 1 for c in satisfied]] = 1.0
    return CodedIndicator(name, slots, numer, denom)


def mean(design: Design, y: np.ndarray, by: Domains | None = None) -> EngineResult:
    """R ``svymean(~y, subset(design, !is.na(y)))`` and ``svyby(..., na.rm = TRUE)``."""
    return _run(design, [NumericIndicator("y", y, ~np.isnan(y))], by)


def total(design: Design, y: np.ndarray, by: Domains | None = None) -> EngineResult:
    """R ``svytotal(~y, design, na.rm = TRUE)`` (by domain as ``svyby``)."""
    return _run(design, [NumericIndicator("y", y, ~np.isnan(y))], by, totals=(True,))


def ratio(design: Design, y: np.ndarray, x: np.ndarray, by: Domains | None = None
          ) -> EngineResult:
    """R ``svyratio(~y, ~x, design)`` over rows where both are present."""
    ok = ~np.isnan(y) & ~np.isnan(x)
    return _run(design, [NumericIndicator("y/x", y, ok, x)], by)


def _run(design: Design, inds: list, by: Domains | None, totals: tuple | None = None
         ) -> EngineResult:
    by = by or Domains(None, None, ())
    return run(design, inds, by.codes, len(by.labels), totals=totals)
