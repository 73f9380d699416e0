"""Desk evaluations of a period: per desk, agency and mode, with coverage and volume weights.

Desk evaluations are self-selected (whoever scans the QR code or drops a slip), not a
probability sample. Each desk is analysed on its own (strata = desks, every evaluation its
own unit); the intervals describe the sampling noise *if* evaluations were a random draw of
the desk's dossiers, which nobody guarantees. Across desks, the optional volume weights
(dossiers handled ÷ evaluations received) make each desk count by its workload: a model,
not a sample design, and the reports say so. Coverage = evaluations ÷ dossiers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
from sqlmodel import Session, select

from analysis.cells import (
    CellDesign,
    CellIndicator,
    CellTable,
    coded_tables,
    mean_tables,
    run_cells,
)
from analysis.estimate import Domains, to_rows
from survey.instruments import Instrument
from survey.models import Desk
from survey.services.desks.volumes import DeskVolume, volumes_in
from survey.services.instruments import latest_version
from survey.services.instruments_text import parse_stored
from survey.services.reports import cache
from survey.services.reports.period import Period
from survey.services.reports.rows import IndexRow, index_row
from survey.services.reports.tallies import DeskCounts, read_counts
from survey.services.scope import EVERYTHING, Scope, desks_within

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


def desk_report(session: Session, period: Period, level: float = 0.95, min_n: int = 30,
                lang: str = "vi", weighted: bool = False,
                scope: Scope = EVERYTHING) -> DeskReport:
    """Desk evaluations of ``period`` at the area's desks per desk, agency and mode
    (self-selected: see module).

    Read from the monthly tallies (a few thousand counts per quarter, however many
    evaluations) and estimated from those cells: the same numbers as the engine on the rows.
    """
    source = latest_version(session, DESK_INSTRUMENT).source_text
    counts = read_counts(session, period, scope)
    desks = {d.id: d for d in session.exec(select(Desk).where(desks_within(scope)))}
    volumes = volumes_in(session, period)
    # Reading the counts is the cheap part; estimating every desk, agency and mode is not.
    # Kept on disk (.cache) under everything the report is made of: a closed quarter's
    # counts no longer change, so it is estimated once for every worker.
    question = (period, level, min_n, lang, weighted,
                hashlib.sha256(source.encode()).hexdigest(), counts,
                tuple(sorted((i, tuple(sorted(d.model_dump().items())))
                             for i, d in desks.items())),
                tuple(sorted(volumes.items())))
    return cache.remember("desk", question, lambda: _desk_report(
        parse_stored(source), period, level, min_n, lang, weighted, counts, desks, volumes))


def _desk_report(form: Instrument, period: Period, level: float, min_n: int, lang: str,
                 weighted: bool, counts: DeskCounts, desks: dict[int, Desk],
                 volumes: dict[int, DeskVolume]) -> DeskReport:
    scale = [i for i in form.items if i.type == "scale"]
    scale.sort(key=lambda i: i.code != HEADLINE_ITEM)
    labels = tuple((i.code, i.label.get(lang) or i.label["vi"]) for i in scale)
    base = dict(period=period, level=level, min_n=min_n, weighted=weighted, items=labels)
    if not counts.evaluations:
        return DeskReport(**base, problem=f"no desk evaluations in {period.code}")
    cells = DeskCells.of(counts, desks, [c for c, _ in labels])
    w = np.ones(cells.n_desks)
    missing = []
    for h, desk_id in enumerate(cells.desk_ids):
        v = volumes.get(desk_id)
        if v is not None and v.complete and v.dossiers > 0:
            w[h] = v.dossiers / cells.per_desk[h]
        else:
            missing.append(cells.codes[h])
    sat, val = tuple(form.satisfied_codes), tuple(form.valid_codes)
    head = 0  # the headline item comes first
    inds = [CellIndicator(c, j, *coded_tables(sat, val)) for j, (c, _) in enumerate(labels)]
    inds.append(CellIndicator("mean", head, *mean_tables(val)))
    inds.append(CellIndicator("low", head, *coded_tables(sorted(val)[:2], val)))
    names = [c for c, _ in labels] + ["mean", "low"]
    per = len(inds)

    def estimate(weights: np.ndarray | None, by: str | None) -> tuple[list, tuple[str, ...]]:
        # A desk with a single evaluation in the period is a lonely stratum: "adjust" (R's
        # survey.lonely.psu) centres it on the grand mean, a conservative contribution,
        # instead of failing the whole report. Its own row is below min_n anyway.
        dom, dom_labels = cells.domain(by)
        res = run_cells(cells.table(np.ones(cells.n_desks) if weights is None else weights, dom),
                        CellDesign(cells.codes, units=cells.per_desk, lonely_psu="adjust"),
                        inds, len(dom_labels))
        domains = Domains(by, None, dom_labels) if by else Domains(None, None, ())
        return to_rows(res, names, domains, [True] * len(labels) + [False, True], "beta",
                       level), dom_labels

    def blocks(by: str, weights: np.ndarray | None) -> list[tuple]:
        rows, dom_labels = estimate(weights, by)
        sizes = cells.evaluations_by(by)
        return [(name, _desk_row(rows[d * per:(d + 1) * per], labels, min_n), sizes[name])
                for d, name in enumerate(dom_labels, start=1)]

    overall = _desk_row(estimate(None, None)[0][:per], labels, min_n)[0]
    overall_w = None
    if weighted and len(missing) < cells.n_desks:
        vw = np.where(np.isin(cells.codes, missing), 0.0, w)
        overall_w = _desk_row(estimate(vw, None)[0][:per], labels, min_n)[0]
    by_code = {d.code: d for d in desks.values()}
    desk_rows = []
    for code, (head_row, items), n in blocks("desk", None):
        desk = by_code[code]
        vol = volumes.get(desk.id or -1)
        desk_rows.append(DeskRow(code, desk.name, desk.agency, head_row, items, n,
                                 vol.dossiers if vol else None, bool(vol and vol.complete)))
    agency_w = None
    if weighted:  # within an agency, volume weights only when every desk has a volume
        agencies = np.array(cells.agencies, dtype=object)
        partial = set(agencies[np.isin(cells.codes, missing)])
        agency_w = np.where(np.isin(agencies, list(partial)), 1.0, w)
    agency_rows = [DeskRow(name, name, name, head_row, items, n)
                   for name, (head_row, items), n in blocks("agency", agency_w)]
    mode_rows = [DeskRow(name, name, "", head_row, items, n)
                 for name, (head_row, items), n in blocks("mode", None)]
    return DeskReport(**base, overall=overall, overall_weighted=overall_w,
                      desks=tuple(desk_rows), agencies=tuple(agency_rows),
                      modes=tuple(mode_rows), evaluations=counts.total,
                      unweighted_desks=tuple(sorted(missing)))


@dataclass(frozen=True, eq=False)
class DeskCells:
    """A period's counts as arrays: strata = desks (sorted by code, as the row path had them).

    Cells are (desk, mode, item, value); a desk's volume weight is constant within it, so Σw
    and Σw² of a cell are its count times w and w².
    """

    codes: tuple[str, ...]  # desk code of each stratum
    desk_ids: tuple[int, ...]
    agencies: tuple[str, ...]
    per_desk: np.ndarray  # evaluations of each desk (the stratum sizes)
    modes: tuple[str, ...]
    mode_counts: dict[str, int]
    stratum: np.ndarray  # per cell
    mode: np.ndarray  # per cell: index into modes
    item: np.ndarray
    value: np.ndarray
    count: np.ndarray

    @classmethod
    def of(cls, counts: DeskCounts, desks: dict, items: list[str]) -> DeskCells:
        ids = sorted({d for d, _m, _n in counts.evaluations}, key=lambda i: desks[i].code)
        index = {d: h for h, d in enumerate(ids)}
        per_desk = np.zeros(len(ids))
        mode_counts: dict[str, int] = {}
        for d, m, n in counts.evaluations:
            per_desk[index[d]] += n
            mode_counts[m] = mode_counts.get(m, 0) + n
        modes = tuple(sorted(mode_counts))
        item_index = {c: j for j, c in enumerate(items)}
        kept = [a for a in counts.answers if a[2] in item_index and a[0] in index]
        return cls(
            codes=tuple(desks[i].code for i in ids), desk_ids=tuple(ids),
            agencies=tuple(desks[i].agency or desks[i].code for i in ids),
            per_desk=per_desk, modes=modes, mode_counts=mode_counts,
            stratum=np.array([index[a[0]] for a in kept], dtype=np.int64),
            mode=np.array([modes.index(a[1]) for a in kept], dtype=np.int64),
            item=np.array([item_index[a[2]] for a in kept], dtype=np.int64),
            value=np.array([a[3] for a in kept], dtype=float),
            count=np.array([a[4] for a in kept], dtype=float))

    @property
    def n_desks(self) -> int:
        return len(self.codes)

    def domain(self, by: str | None) -> tuple[np.ndarray, tuple[str, ...]]:
        """Domain code of every cell and the domains' labels (sorted, as ``Domains.of``)."""
        if by is None:
            return np.full(self.stratum.size, -1, dtype=np.int64), ()
        if by == "mode":
            return self.mode, self.modes
        names = self.codes if by == "desk" else self.agencies
        labels = tuple(sorted(set(names)))
        of_desk = np.array([labels.index(x) for x in names], dtype=np.int64)
        return of_desk[self.stratum], labels

    def evaluations_by(self, by: str) -> dict[str, int]:
        if by == "mode":
            return dict(self.mode_counts)
        names = self.codes if by == "desk" else self.agencies
        out: dict[str, int] = {}
        for name, n in zip(names, self.per_desk, strict=True):
            out[name] = out.get(name, 0) + int(n)
        return out

    def table(self, desk_weights: np.ndarray, domain: np.ndarray) -> CellTable:
        w = desk_weights[self.stratum]
        counted = self.count * (w > 0)
        return CellTable(stratum=self.stratum, domain=domain, item=self.item, code=self.value,
                         count=counted, wsum=counted * w, wsum2=counted * w * w)


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
