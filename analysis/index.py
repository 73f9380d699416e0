"""SIPAS indices: criterion → element → overall, with linearised SEs and logit CIs.

A criterion index is the weighted share of valid answers in the satisfied codes (a ratio
estimator); an element index is the mean of its criteria and the overall index the mean of
the elements present. Both are linear combinations of ratios, so their influence values are
the same combinations of the criteria's: R ``svyratio(..., covmat = TRUE)`` + ``svycontrast``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis.design import Design
from analysis.engine import CodedIndicator, run, slots_of
from analysis.estimate import Domains, Estimate, _num, to_rows

OVERALL = "SIPAS"


@dataclass(frozen=True)
class Element:
    """An element: its name (e.g. 'I'), label and the item columns (criteria) it averages."""

    name: str
    items: tuple[str, ...]
    label: str = ""


def parse_element(text: str) -> Element:
    """``NAME=COL,COL,...`` from the command line."""
    name, sep, cols = text.partition("=")
    items = tuple(c.strip() for c in cols.split(",") if c.strip())
    if not sep or not name.strip() or not items:
        raise ValueError(f"--element must look like NAME=COL,COL,... (got {text!r})")
    return Element(name.strip(), items)


def sipas_index(
    design: Design,
    answers: dict[str, np.ndarray],
    elements: Sequence[Element],
    domains: Domains,
    satisfied: Sequence[int] = (4, 5),
    valid: Sequence[int] = (1, 2, 3, 4, 5),
    level: float = 0.95,
    target: float | None = None,
    domain_criteria: bool = True,
) -> list[Estimate]:
    """Criterion, element and overall rows for the whole sample and every domain.

    Criterion rows also carry ``mean_score`` (1–5) and ``dissatisfied`` (share of the two
    lowest valid codes) with their SEs in ``extra``. ``domain_criteria=False``: domains
    get only their element and overall rows (what a breakdown's table shows; the
    criteria are still estimated, the elements are made of them), the whole sample all.
    """
    bad = set(satisfied) - set(valid)
    if bad:
        raise ValueError(f"satisfied codes {sorted(bad)} are not among the valid codes")
    items = [c for e in elements for c in e.items]
    if len(set(items)) != len(items):
        raise ValueError("an item is listed in two elements")
    top = max(valid)
    sat, score, low = (np.zeros(top + 2) for _ in range(3))
    denom = np.zeros(top + 2)
    denom[[c + 1 for c in valid]] = 1.0
    sat[[c + 1 for c in satisfied]] = 1.0
    score[[c + 1 for c in valid]] = valid
    low[[c + 1 for c in sorted(valid)[:2]]] = 1.0
    inds: list[CodedIndicator] = []
    is_valid = denom > 0
    lo, hi = min(valid) + 1, top + 1
    contiguous = len(set(valid)) == hi - lo + 1

    def answered_rows(slots: np.ndarray) -> np.ndarray:
        # two byte comparisons instead of a lookup that widens ten million indexes first
        return (slots >= lo) & (slots <= hi) if contiguous else is_valid[slots]

    combo_valid = []  # per element: rows with a valid answer to any of its items
    for e in elements:
        answered = None
        for c in e.items:
            slots = slots_of(answers[c], top)  # read once: ``answers`` may free it after
            inds.append(CodedIndicator(c, slots, sat, denom))
            answered = (answered_rows(slots) if answered is None
                        else answered | answered_rows(slots))
        combo_valid.append(np.zeros(design.n, dtype=bool) if answered is None else answered)
    combo_valid.append(np.logical_or.reduce(combo_valid))  # overall: any element answered
    inds += [CodedIndicator(i.name, i.slots, score, denom) for i in inds[: len(items)]]
    inds += [CodedIndicator(i.name, i.slots, low, denom) for i in inds[: len(items)]]
    k = len(items)
    member = np.zeros((len(elements), 3 * k))
    pos = 0
    for e_i, e in enumerate(elements):
        member[e_i, pos:pos + len(e.items)] = 1.0
        pos += len(e.items)
    state: dict = {}

    def combos(n_valid: np.ndarray) -> np.ndarray:
        here = (n_valid > 0)[:, None, :] * member[None, :, :]  # (D, E, J)
        per_el = here.sum(axis=2, keepdims=True)
        el = np.divide(here, per_el, out=np.zeros_like(here), where=per_el > 0)
        has = (per_el[:, :, 0] > 0).astype(float)
        overall = np.einsum("de,dej->dj", has / np.maximum(has.sum(1, keepdims=True), 1), el)
        state["here"], state["has"] = here, has
        return np.concatenate([el, overall[:, None, :]], axis=1)

    # the strata a lonely-PSU policy sees are the domain's, as R's svyratio on the subset
    res = run(design, inds, domains.codes, len(domains.labels), combos=combos,
              combo_valid=combo_valid, seen_by_domain=True)
    names = items + [e.name for e in elements] + [OVERALL]
    levels = ["criterion"] * k + ["element"] * len(elements) + ["overall"]
    keep = list(range(k)) + list(range(3 * k, 3 * k + len(elements) + 1))
    sub = _select(res, keep)
    notes = _notes(state["has"], state["here"], elements, items, sub.n)
    skip = None
    if not domain_criteria:
        skip = np.zeros(sub.estimate.shape, dtype=bool)
        skip[1:, :k] = True
    return to_rows(sub, names, domains, [True] * len(names), "logit", level, target,
                   levels, notes, skip=skip, extras=_scores(res, k))


def _select(res, cols: list[int]):
    return type(res)(*(getattr(res, f)[:, cols] for f in res.__dataclass_fields__))


def _notes(has: np.ndarray, here: np.ndarray, elements: Sequence[Element], items: list[str],
           n: np.ndarray) -> np.ndarray:
    """Name the criteria and elements without valid answers in each domain."""
    d_count = has.shape[0]
    k, n_el = len(items), len(elements)
    notes = np.full((d_count, k + n_el + 1), "", dtype=object)
    for d in range(d_count):
        gone = [e.name for e, h in zip(elements, has[d], strict=True) if not h]
        if gone and has[d].any():
            notes[d, -1] = "no valid answers for element(s) " + ", ".join(gone)
        pos = 0
        for e_i, e in enumerate(elements):
            missing = [c for j, c in enumerate(e.items) if here[d, e_i, pos + j] == 0]
            if missing and has[d, e_i]:
                notes[d, k + e_i] = "no valid answers for " + ", ".join(missing)
            pos += len(e.items)
    return notes


def _scores(res, k: int):  # type: ignore[no-untyped-def]
    """A criterion row's ``extra``: its mean score and share dissatisfied, with SEs (None
    where R gives NaN: an SE a lonely-PSU policy cannot compute)."""
    est, se = res.estimate[:, k:3 * k].tolist(), res.se[:, k:3 * k].tolist()

    def extra(d: int, j: int) -> dict:
        if j >= k:
            return {}
        return {"mean_score": _num(est[d][j]), "mean_score_se": _num(se[d][j]),
                "dissatisfied": _num(est[d][k + j]), "dissatisfied_se": _num(se[d][k + j])}
    return extra
