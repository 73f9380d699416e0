"""Desk evaluations of a period: per desk, agency and mode, with coverage and volume weights.

Desk evaluations are self-selected (whoever scans the QR code or drops a slip), not a
probability sample. Each desk is analysed on its own (strata = desks, every evaluation its
own unit); the intervals describe the sampling noise *if* evaluations were a random draw of
the desk's dossiers, which nobody guarantees. Across desks, the optional volume weights
(dossiers handled ÷ evaluations received) make each desk count by its workload: a model,
not a sample design, and the reports say so. Coverage = evaluations ÷ dossiers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from sqlmodel import Session, select

from analysis.design import make_design
from analysis.engine import NumericIndicator, run
from analysis.estimate import Domains, satisfied_indicator, to_rows
from survey.models import NOT_COUNTED, Answer, Desk, Instrument, InstrumentVersion, Response
from survey.services.desks.volumes import volumes_in
from survey.services.instruments import latest_version
from survey.services.instruments_text import parse_stored
from survey.services.reports.period import Period
from survey.services.reports.rows import IndexRow, index_row

DESK_INSTRUMENT = "desk_evaluation"
HEADLINE_ITEM = "overall"


@dataclass(frozen=True)
class DeskRow:
    """One desk (or agency, or mode): the headline share and each scale item's share."""

    key: str
    name: str
    agency: str
    headline: IndexRow
    items: tuple[IndexRow, ...]
    evaluations: int
    dossiers: int | None = None
    volume_complete: bool = False

    @property
    def coverage(self) -> float | None:
        """Evaluations ÷ dossiers, only against a volume that covers the whole period."""
        if self.dossiers and self.volume_complete:
            return self.evaluations / self.dossiers
        return None


@dataclass(frozen=True)
class DeskReport:
    period: Period
    level: float
    min_n: int
    weighted: bool
    items: tuple[tuple[str, str], ...]  # (code, label) of the scale items
    overall: IndexRow | None = None
    overall_weighted: IndexRow | None = None
    desks: tuple[DeskRow, ...] = ()
    agencies: tuple[DeskRow, ...] = ()
    modes: tuple[DeskRow, ...] = ()
    evaluations: int = 0
    unweighted_desks: tuple[str, ...] = ()  # desks left out of the volume-weighted overall
    problem: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


def _moment(d: datetime) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _fetch(session: Session, period: Period) -> tuple[list[tuple], dict[int, dict[str, float]]]:
    start = _moment(datetime(period.start.year, period.start.month, period.start.day))
    end = _moment(datetime(period.end.year, period.end.month, period.end.day))
    where = (Instrument.kind == "desk", Response.status.not_in(NOT_COUNTED),  # type: ignore[attr-defined]
             Response.desk_id.is_not(None),  # type: ignore[union-attr]
             Response.created_at >= start, Response.created_at < end)
    resp = session.exec(
        select(Response.id, Response.desk_id, Response.mode)
        .join(InstrumentVersion, InstrumentVersion.id == Response.instrument_version_id)
        .join(Instrument, Instrument.id == InstrumentVersion.instrument_id).where(*where)
        .order_by(Response.id)
    ).all()
    answers: dict[int, dict[str, float]] = {}
    for rid, code, num in session.exec(
        select(Answer.response_id, Answer.item_code, Answer.value_num)
        .join(Response, Response.id == Answer.response_id)
        .join(InstrumentVersion, InstrumentVersion.id == Response.instrument_version_id)
        .join(Instrument, Instrument.id == InstrumentVersion.instrument_id).where(*where)
    ):
        if num is not None:
            answers.setdefault(rid, {})[code] = num
    return list(resp), answers


def desk_report(session: Session, period: Period, level: float = 0.95, min_n: int = 30,
                lang: str = "vi", weighted: bool = False) -> DeskReport:
    """Desk evaluations of ``period`` per desk, agency and mode (self-selected: see module)."""
    form = parse_stored(latest_version(session, DESK_INSTRUMENT).source_text)
    scale = [i for i in form.items if i.type == "scale"]
    scale.sort(key=lambda i: i.code != HEADLINE_ITEM)
    labels = tuple((i.code, i.label.get(lang) or i.label["vi"]) for i in scale)
    base = dict(period=period, level=level, min_n=min_n, weighted=weighted, items=labels)
    resp, answers = _fetch(session, period)
    if not resp:
        return DeskReport(**base, problem=f"no desk evaluations in {period.code}")
    desks = {d.id: d for d in session.exec(select(Desk))}
    desk_ids = np.array([r[1] for r in resp])
    n = len(resp)
    values = {c: np.array([answers.get(r[0], {}).get(c, np.nan) for r in resp]) for c, _ in labels}
    volumes = volumes_in(session, period)
    counts = {d: int((desk_ids == d).sum()) for d in np.unique(desk_ids)}
    w = np.ones(n)
    missing = []
    for d, c in counts.items():
        v = volumes.get(int(d))
        if v is not None and v.complete and v.dossiers > 0:
            w[desk_ids == d] = v.dossiers / c
        else:
            missing.append(desks[int(d)].code)
    codes = np.array([desks[int(d)].code for d in desk_ids], dtype=object)
    agencies = np.array([desks[int(d)].agency or desks[int(d)].code for d in desk_ids],
                        dtype=object)
    modes = np.array([r[2] for r in resp], dtype=object)
    sat, val = tuple(form.satisfied_codes), tuple(form.valid_codes)

    def estimate(weights: np.ndarray | None, by: str | None, col: np.ndarray | None):
        # A desk with a single evaluation in the period is a lonely stratum: "adjust" (R's
        # survey.lonely.psu) centres it on the grand mean, a conservative contribution,
        # instead of failing the whole report. Its own row is below min_n anyway.
        design = make_design(n, weights=np.ones(n) if weights is None else weights,
                             strata=codes, lonely_psu="adjust")
        dom = Domains.of(by, col)
        inds = [satisfied_indicator(c, values[c], sat, val) for c, _ in labels]
        y = values[HEADLINE_ITEM]
        y = np.where(np.isin(y, val), y, np.nan)
        inds.append(NumericIndicator("mean", y, ~np.isnan(y)))
        low = sorted(val)[:2]
        inds.append(satisfied_indicator("low", values[HEADLINE_ITEM], low, val))
        res = run(design, inds, dom.codes, len(dom.labels))
        k = len(labels)
        rows = to_rows(res, [c for c, _ in labels] + ["mean", "low"], dom,
                       [True] * k + [False, True], "beta", level)
        return rows, k + 2

    def blocks(by: str, col: np.ndarray, weights: np.ndarray | None) -> list[tuple]:
        rows, per = estimate(weights, by, col)
        dom = Domains.of(by, col)
        out = []
        for d, name in enumerate(dom.labels, start=1):
            block = rows[d * per:(d + 1) * per]
            out.append((name, _desk_row(block, labels, min_n), int((col == name).sum())))
        return out

    whole, per = estimate(None, None, None)
    overall = _desk_row(whole[:per], labels, min_n)[0]
    overall_w = None
    if weighted and len(missing) < len(counts):
        vw = np.where(np.isin(codes, missing), 0.0, w)
        rows_w, _ = estimate(vw, None, None)
        overall_w = _desk_row(rows_w[:per], labels, min_n)[0]
    by_code = {d.code: d for d in desks.values()}
    desk_rows = []
    for code, (head, items), _n in blocks("desk", codes, None):
        desk = by_code[code]
        vol = volumes.get(desk.id or -1)
        desk_rows.append(DeskRow(code, desk.name, desk.agency, head, items,
                                 counts[desk.id], vol.dossiers if vol else None,
                                 bool(vol and vol.complete)))
    agency_w = None
    if weighted:  # within an agency, volume weights only when every desk has a volume
        partial = np.unique(agencies[np.isin(codes, missing)])
        agency_w = np.where(np.isin(agencies, partial), 1.0, w)
    agency_rows = [DeskRow(name, name, name, head, items, cnt)
                   for name, (head, items), cnt in blocks("agency", agencies, agency_w)]
    mode_rows = [DeskRow(name, name, "", head, items, cnt)
                 for name, (head, items), cnt in blocks("mode", modes, None)]
    return DeskReport(**base, overall=overall, overall_weighted=overall_w,
                      desks=tuple(desk_rows), agencies=tuple(agency_rows),
                      modes=tuple(mode_rows), evaluations=n,
                      unweighted_desks=tuple(sorted(missing)))


def _desk_row(block: list, labels: tuple[tuple[str, str], ...], min_n: int
              ) -> tuple[IndexRow, tuple[IndexRow, ...]]:
    """Headline row (with mean score and share dissatisfied) and the item rows."""
    from dataclasses import replace

    k = len(labels)
    items = [index_row(e, lab, min_n, "item") for e, (_c, lab) in zip(block[:k], labels,
                                                                       strict=True)]
    head = items[0]
    if head.shown:
        head = replace(head, mean_score=block[k].estimate, dissatisfied=block[k + 1].estimate)
    return head, tuple(items)
