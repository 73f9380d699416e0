"""The household SIPAS index of one round: overall, elements, criteria, breakdowns, priorities.

The data are exactly the rows of the verified export of the round (``round_data`` reads the
same responses and answers as ``export_rows``, without the text round trip), so the
dashboard, the report, ``sipas index --db`` and a downloaded file analysed in R agree. The
design is the round's: strata = ``stratum``, PSU = ``psu``, weights = ``weight``.
Screened-out respondents have no satisfaction answers: they fall outside every criterion's
domain, as they should, and still count in the design (PSUs, strata, df).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from sqlmodel import Session

from analysis.codes import Categorical, factorize
from analysis.compare import Difference, index_against_whole, whole_influence
from analysis.design import Design, make_design
from analysis.engine import run
from analysis.estimate import Domains, Estimate, satisfied_indicator, to_rows
from analysis.index import OVERALL, Element, sipas_index
from survey.instruments import Instrument
from survey.instruments.schema import Item
from survey.instruments.values import code_text
from survey.messages import N_, UserError
from survey.models import SurveyRound
from survey.services.data.export import GEO_LEVELS
from survey.services.instruments import latest_version
from survey.services.instruments_text import parse_stored
from survey.services.reports import cache
from survey.services.reports.round_data import CODE, SURVEYED, RoundData, fingerprint, load_round
from survey.services.reports.rows import IndexRow, index_row
from survey.services.reports.words import T
from survey.services.sample.rounds import pick_round

# provinces appear only when a round holds several (a national round, the ministry's view)
BREAKDOWNS = ("province", "district", "commune", "hamlet")
Area = tuple[str, str, str]  # an account's area: (level code, unit code, unit name)
# Multi-select experience questions: one (overlapping) domain per chosen answer.
SELECTIONS = ("e_levels", "e_fields")
PRIORITY_LIST = "priority"


@dataclass(frozen=True)
class DomainRow:
    """One domain of a breakdown: its overall index and its element indices."""

    domain: str
    overall: IndexRow
    elements: tuple[IndexRow, ...]
    code: str = ""  # the choice code, for domains of a multi-select question
    # the domain's overall index minus the whole's (province or filtered unit), with its SE
    against: Difference | None = None
    # rank of the domain's index among the breakdown's, with its 95% interval (best, worst)
    rank: tuple[int, int, int] | None = None


@dataclass(frozen=True)
class HouseholdReport:
    round_code: str
    round_name: str
    instrument: str
    target: float
    level: float
    min_n: int
    scope: str  # "" for the whole province, else e.g. "district = Huyện Tân Phú"
    design: dict = field(default_factory=dict)
    overall: IndexRow | None = None
    elements: tuple[IndexRow, ...] = ()
    criteria: tuple[tuple[str, tuple[IndexRow, ...]], ...] = ()  # element code → criteria
    breakdowns: dict[str, tuple[DomainRow, ...]] = field(default_factory=dict)
    # agency level / service field: domains overlap (a respondent counts in each chosen one)
    selections: dict[str, tuple[DomainRow, ...]] = field(default_factory=dict)
    selection_titles: dict[str, str] = field(default_factory=dict)  # item code → question
    priorities: tuple[IndexRow, ...] = ()
    problem: str | None = None
    # level → today's unit → the units as surveyed that it took over (a reform since the
    # round: the round is read on today's map, and the report says what was merged)
    formers: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)


def _label(labels: dict, lang: str) -> str:
    return labels.get(lang) or labels.get("vi") or ""


def _design(data: RoundData, codes: tuple[Categorical, Categorical],
            rows: np.ndarray | None = None) -> Design:
    """The round's design from its stratum and PSU columns factorized once per page
    (sorting 37,000 strings once, not once per design); with ``rows`` (indexes, every
    row at least once, repeats allowed), the design of those rows."""
    strata, psus = codes
    if rows is None:
        return make_design(data.n, weights=data.numbers["weight"], strata=strata,
                           clusters=[psus])
    return make_design(rows.size, weights=data.numbers["weight"][rows],
                       strata=Categorical(strata.codes[rows], strata.labels),
                       clusters=[Categorical(psus.codes[rows], psus.labels)])


def household_report(
    session: Session, round_code: str | None = None, instrument: str = "sipas_services",
    target: float = 0.80, level: float = 0.95, min_n: int = 30, lang: str = "vi",
    filter_by: tuple[str, str] | None = None, only: tuple[str, ...] | None = None,
    area: Area | None = None,
) -> HouseholdReport:
    """Everything the household part of the dashboard and the report show, for one round.

    ``only`` names the breakdowns to compute (geography levels or multi-select items);
    ``None`` computes all of them, ``()`` only the headline rows (trends, comparisons).
    ``area`` (level, unit code, name): the reader's area, a domain of the round's design
    (never a subset of its rows, so the variance stays the design's); ``filter_by`` then
    chooses within it.
    """
    round_ = pick_round(session, round_code)
    version = latest_version(session, instrument)
    stamp = fingerprint(session, round_.code, instrument)
    question = (stamp, round_.name, version.id,
                hashlib.sha256(version.source_text.encode()).hexdigest(), target, level,
                min_n, lang, filter_by, only, area)
    return cache.remember("household", question, lambda: _household_report(
        session, round_, parse_stored(version.source_text), instrument, target, level, min_n,
        lang, filter_by, only, stamp, area))


def _household_report(
    session: Session, round_: SurveyRound, form: Instrument, instrument: str, target: float,
    level: float, min_n: int, lang: str, filter_by: tuple[str, str] | None,
    only: tuple[str, ...] | None, stamp: tuple[str, ...], area: Area | None = None,
) -> HouseholdReport:
    # the unit's own name says its level
    scope = filter_by[1] if filter_by else area[2] if area else ""
    words = T.get(lang, T["vi"])
    base = dict(round_code=round_.code, round_name=round_.name, instrument=instrument,
                target=target, level=level, min_n=min_n, scope=scope)
    data = load_round(session, round_.code, instrument, key=stamp,  # not hashed twice
                      items=report_items(form))
    if data.n == 0:
        return HouseholdReport(**base,
                               problem=words["no_verified_round"].format(round=round_.code))
    try:
        codes = (factorize(data.text["stratum"]), factorize(data.text["psu"]))
        design = _design(data, codes)
    except ValueError as exc:
        return HouseholdReport(**base, problem=words["design_unusable"].format(reason=exc))
    elements = [Element(e.code, tuple(e.items), _label(e.label, lang)) for e in form.elements]
    items = [c for e in elements for c in e.items]
    answers = {c: data.numbers.get(c, np.full(data.n, np.nan)) for c in items}
    sat, val = tuple(form.satisfied_codes), tuple(form.valid_codes)

    def index(domain: Domains, rows: np.ndarray | None = None,
              breakdown: bool = False) -> list[Estimate]:
        """The index of every domain; ``rows`` (indexes, every row at least once, repeats
        allowed): of those rows. ``breakdown``: domains without their criteria rows."""
        mine, picked = (design, answers) if rows is None else (
            _design(data, codes, rows), {c: a[rows] for c, a in answers.items()})
        return sipas_index(mine, picked, elements, domain, sat, val, level, target,
                           domain_criteria=not breakdown)

    inside = np.ones(data.n, dtype=bool)
    head_dom = Domains(None, None, ())
    below = BREAKDOWNS
    if area:
        level_code, unit_code, _name = area
        column = data.text.get(CODE + level_code)
        inside = column == unit_code if column is not None else np.zeros(data.n, dtype=bool)
        below = GEO_LEVELS[GEO_LEVELS.index(level_code) + 1:] \
            if level_code in GEO_LEVELS else ()
        below = tuple(b for b in below if b in BREAKDOWNS)
    if filter_by:
        col, value = filter_by
        if col not in BREAKDOWNS:
            raise ValueError(f"cannot filter by {col!r}; choose one of {', '.join(BREAKDOWNS)}")
        if col not in below:  # a level at or above the area's own
            raise UserError(N_("that filter is at or above your own area: choose a unit "
                               "within your area"))
        inside = inside & (data.text[col] == value)
        below = BREAKDOWNS[BREAKDOWNS.index(col) + 1:]
    if area or filter_by:
        if not inside.any():
            return HouseholdReport(**base, problem=words["no_verified_in"].format(scope=scope))
        head_dom = Domains.of(filter_by[0] if filter_by else area[0],  # type: ignore[index]
                              np.where(inside, scope, ""))
    try:
        head = index(head_dom)
    except ValueError as exc:
        return HouseholdReport(**base, problem=f"the index cannot be estimated: {exc}")
    per = len(items) + len(elements) + 1
    headline = head[-per:]
    labels = {i.code: _label(i.label, lang) for i in form.items}
    labels.update({e.name: e.label for e in elements})
    labels[OVERALL] = "SIPAS"
    rows = [index_row(e, labels.get(e.name, e.name), min_n) for e in headline]
    by_code = {r.code: r for r in rows}
    criteria = tuple((e.name, tuple(by_code[c] for c in e.items)) for e in elements)
    wanted = set(BREAKDOWNS + SELECTIONS if only is None else only)
    breakdowns = {}
    whole: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    element_items = [e.items for e in elements]
    for col in (c for c in below if c in wanted):
        if not (data.text[col][inside] != "").any():
            continue  # a level the geography lacks (no districts since 2025)
        if col == "province" and len(set(data.text[col][inside].tolist()) - {""}) < 2:
            continue  # one province is the whole: nothing to compare it with
        dom = Domains.of(col, np.where(inside, data.text[col], ""))
        found = _domains(index(dom, breakdown=True), dom, per, min_n, labels)
        if whole is None:  # the same whole for every breakdown: its influence once
            whole = whole_influence(design, answers, element_items, sat, val, inside)
        try:  # is each area different from the whole? (the area is part of it)
            against = index_against_whole(
                design, answers, element_items, sat, val, dom.codes, dom.labels, inside,
                scope, level, whole_parts=whole)
        except ValueError:  # a PSU in two areas: no comparison rather than a wrong one
            against = [None] * len(found)
        ranks = _ranks(found, design.strata, dom.codes, inside, level)
        breakdowns[col] = tuple(replace(row, against=diff, rank=rank)
                                for row, diff, rank in zip(found, against, ranks, strict=True))
    selections: dict[str, tuple[DomainRow, ...]] = {}
    for code in (c for c in SELECTIONS if c in wanted and c in data.text):
        found = _chosen_domains(index, data.text[code], form.item(code), inside, per, min_n,
                                labels, lang)
        if found:
            selections[code] = found
    return HouseholdReport(
        **base, formers=_formers(data, inside),
        design=_design_summary(design, data, inside, rows[-1]),
        overall=by_code[OVERALL], elements=tuple(by_code[e.name] for e in elements),
        criteria=criteria, breakdowns=breakdowns, selections=selections,
        selection_titles={c: _label(form.item(c).label, lang) for c in selections},
        priorities=(_priorities(design, data, form, head_dom, level, min_n, lang)
                    if only is None or PRIORITY_LIST in only else ()),
    )


def report_items(form: Instrument) -> tuple[str, ...]:
    """The answers the household report reads: the criteria, the multi-select groups and
    the improvement priorities (30 of the standard questionnaire's 128), in form order."""
    criteria = {c for e in form.elements for c in e.items}
    return tuple(i.code for i in form.items if i.code in criteria or i.code in SELECTIONS
                 or i.choice_list == PRIORITY_LIST)


def _formers(data: RoundData, inside: np.ndarray) -> dict[str, dict[str, tuple[str, ...]]]:
    """For each level, today's units that hold (part of) a unit the round surveyed under
    another name: the 2025 reform's mergers, as the rows of this report saw them."""
    out = {}
    for level in GEO_LEVELS:
        was_code = data.text.get(SURVEYED + CODE + level)
        if was_code is None:
            continue
        now_code, now, was = (data.text[CODE + level], data.text[level],
                              data.text[SURVEYED + level])
        changed = inside & (was_code != now_code) & (was_code != "") & (now_code != "")
        found: dict[str, set[str]] = {}
        for today_name, old_name in zip(now[changed].tolist(), was[changed].tolist(),
                                        strict=True):
            found.setdefault(today_name, set()).add(old_name)
        if found:
            out[level] = {t: tuple(sorted(found[t])) for t in sorted(found)}
    return out


def chosen_all(answers: np.ndarray) -> dict[str, np.ndarray]:
    """Each code of a multi-select item (codes separated by spaces, as exported) → the rows
    that chose it, in one pass over the answers (not one per choice: 13 choices × 37,000
    questionnaires)."""
    out: dict[str, np.ndarray] = {}
    for k, value in enumerate(answers.tolist()):
        for code in str(value).split():
            if code not in out:
                out[code] = np.zeros(len(answers), dtype=bool)
            out[code][k] = True
    return out


def _chosen_domains(index: Callable[..., list[Estimate]], answers: np.ndarray, item: Item,
                    inside: np.ndarray, per: int, min_n: int, labels: dict[str, str],
                    lang: str) -> tuple[DomainRow, ...]:
    """One domain per choice of a multi-select item, each estimated as its own subset.

    The domains overlap (a respondent who chose two levels is in both), so they cannot be
    one partition of the rows: each choice is a domain estimate of its own, with its own
    df (PSUs with a respondent in it minus their strata), like R's ``subset(design, …)``.
    They are still computed in one pass, not one per choice: every row once in no domain
    (so each stratum keeps all its PSUs), then a copy of each row per choice it made, in
    that choice's domain. A domain's estimate, SE and df read only its own rows and the
    design's PSUs, so they are exactly the separate subsets' (a test compares the two);
    only the whole-sample line, which counts copies, is not used.
    """
    picked = chosen_all(answers)
    found = []
    for choice in item.choices:
        rows = np.flatnonzero(inside & picked.get(code_text(choice.code),
                                                  np.zeros(len(answers), dtype=bool)))
        if rows.size:
            found.append((choice, rows))
    if not found:
        return ()
    n = len(answers)
    take = np.concatenate([np.arange(n), *(rows for _c, rows in found)])
    codes = np.concatenate([np.full(n, -1, dtype=np.int64),
                            *(np.full(rows.size, k, dtype=np.int64)
                              for k, (_c, rows) in enumerate(found))])
    names = tuple(_label(choice.label, lang) for choice, _rows in found)
    est = index(Domains(item.code, codes, names), take, breakdown=True)
    return tuple(_domain_row(name, block, labels, min_n, code_text(choice.code))
                 for (choice, _rows), name, block in zip(found, names,
                                                         _blocks(est, per, len(found)),
                                                         strict=True))


def _ranks(rows: tuple[DomainRow, ...], strata: np.ndarray, codes: np.ndarray | None,
           inside: np.ndarray, level: float) -> list[tuple[int, int, int] | None]:
    """Each area's rank by its SIPAS index with a ``level`` interval for its true rank
    (:mod:`analysis.ranking`), when the areas are strata or unions of strata: their
    estimates are then independent, which the intervals assume. Areas that cut across
    strata (communes within a district stratum), or fewer than three areas with an
    estimate, get none."""
    from analysis.ranking import rank_intervals

    none: list[tuple[int, int, int] | None] = [None] * len(rows)
    if codes is None:
        return none
    keep = inside & (codes >= 0)
    mine, area = strata[keep].astype(np.int64), codes[keep].astype(np.int64)
    # distinct (stratum, area) pairs as one integer each (np.unique by columns sorts them
    # as records: 25 ms a breakdown at 37,000 rows)
    pairs = np.unique(mine * (int(area.max(initial=0)) + 1) + area).size
    if pairs != np.unique(mine).size:
        return none  # a stratum in two areas
    ranked = [k for k, r in enumerate(rows) if r.overall.shown and r.overall.se is not None
              and np.isfinite(r.overall.se)]
    if len(ranked) < 3:
        return none
    result = rank_intervals([str(k) for k in ranked],
                            np.array([rows[k].overall.estimate for k in ranked], dtype=float),
                            np.array([rows[k].overall.se for k in ranked], dtype=float), level)
    for area in result.areas:
        none[int(area.area)] = (area.rank, area.lower, area.upper)
    return none


def _blocks(est: list[Estimate], per: int, count: int) -> list[list[Estimate]]:
    """Each domain's rows of a breakdown's :func:`sipas_index` (``domain_criteria=False``):
    after the whole sample's ``per`` rows, each domain's elements and overall."""
    size = len(est[per:]) // count if count else 0
    return [est[per + d * size:per + (d + 1) * size] for d in range(count)]


def _domains(est: list[Estimate], dom: Domains, per: int, min_n: int,
             labels: dict[str, str]) -> tuple[DomainRow, ...]:
    return tuple(_domain_row(name, block, labels, min_n)
                 for name, block in zip(dom.labels, _blocks(est, per, len(dom.labels)),
                                        strict=True))


def _domain_row(name: str, block: list[Estimate], labels: dict[str, str], min_n: int,
                code: str = "") -> DomainRow:
    """One domain's row from its block of :func:`_blocks`: its elements, then its overall."""
    el = tuple(index_row(e, labels.get(e.name, e.name), min_n) for e in block
               if e.level == "element")
    return DomainRow(name, index_row(block[-1], "SIPAS", min_n), el, code)


def _design_summary(design: Design, data: RoundData, inside: np.ndarray,
                    overall: IndexRow) -> dict:
    """What the methodology note states: rows, respondents, strata, PSUs, df."""
    summary = design.summary()
    strata = data.text["stratum"][inside]
    psus = data.text["psu"][inside]
    return {
        "rows": int(inside.sum()), "respondents": overall.n,
        "strata": len(set(strata.tolist())), "psus": len(set(psus.tolist())),
        "df_design": summary["df"], "df": overall.df,
        "sum_weights": float(data.numbers["weight"][inside].sum()),
    }


def _priorities(design: Design, data: RoundData, form: Instrument, dom: Domains,
                level: float, min_n: int, lang: str) -> tuple[IndexRow, ...]:
    """Share wanting 'very much' or 'much' improvement, per priority item, highest first."""
    items = [i for i in form.items if i.choice_list == PRIORITY_LIST and i.code in data.numbers]
    if not items:
        return ()
    codes = [int(c) for c in items[0].choice_codes]
    inds = [satisfied_indicator(i.code, data.numbers[i.code], codes[:2], codes) for i in items]
    res = run(design, inds, dom.codes, len(dom.labels))
    est = to_rows(res, [i.code for i in items], dom, [True] * len(items), "logit", level)
    mine = est[-len(items):]
    rows = [index_row(e, _label(i.label, lang), min_n, "priority")
            for e, i in zip(mine, items, strict=True)]
    return tuple(sorted(rows, key=lambda r: -(r.estimate or -1)))
