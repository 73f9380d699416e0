"""Drawing a round's sample from the frame: strata, PPS hamlets, questionnaire IDs.

Each current hamlet belongs to the stratum of its ancestor at ``strata_level`` (district
before the 2025 reform, commune after). Within each stratum hamlets are drawn PPS
systematic by size in frame (code) order, certainty units first (:mod:`survey.services.sample.pps`);
each sampled hamlet becomes a ``SampleUnit`` with its π, stratum and a 4-digit PSU code,
and a ``FieldAssignment`` of questionnaire serials 1..M (IDs with a Luhn check digit) and
an enumerator. The seed is recorded in the audit trail, so a draw can be replayed exactly;
each stratum has its own generator derived from the seed.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, func
from sqlmodel import Session, select

from survey.messages import N_, UserError
from survey.models import AdminUnit, GeoLevel, Response, SampleUnit, Stratum, SurveyRound, User
from survey.models_sample import FieldAssignment
from survey.services.audit import record
from survey.services.geography import today, todays_parent
from survey.services.sample.pps import inclusion_probabilities, pps_systematic, stratum_rng
from survey.services.sample.rounds import ensure_open, get_round
from survey.services.scope import subtree

SIZE_MEASURES = ("households", "population")


@dataclass(frozen=True)
class DrawnHamlet:
    psu_code: str
    unit_code: str
    name: str
    stratum: str
    size: int
    prob: float
    certainty: bool


@dataclass(frozen=True)
class StratumDraw:
    code: str
    name: str
    hamlets: int
    drawn: int
    certainty: int
    total_size: int


@dataclass(frozen=True)
class SampleDraw:
    round_code: str
    seed: int
    strata: tuple[StratumDraw, ...]
    hamlets: tuple[DrawnHamlet, ...]
    per_hamlet: int


@dataclass(frozen=True)
class FrameHamlet:
    unit: AdminUnit
    stratum: AdminUnit
    size: int


def frame_hamlets(
    session: Session, strata_level: str, size: str = "households", psu_level: str = "hamlet",
    area: int | None = None, on: date | None = None,
) -> dict[str, list[FrameHamlet]]:
    """The hamlets of the map of ``on`` (default today; of the unit ``area`` only, if given:
    a province's round) grouped by stratum code, each list in code order.

    A hamlet is on the map when ``on`` lies between its ``valid_from`` and ``valid_to``; its
    stratum is found walking up that day's map, so a hamlet left under a commune a reform
    merged away is stratified with the commune that took it over."""
    day = on or today()
    if size not in SIZE_MEASURES:
        raise UserError(N_("the measure of size must be one of %(sizes)s, not '%(size)s'"),
                        sizes=", ".join(SIZE_MEASURES), size=size)
    levels = {lv.code: lv for lv in session.exec(select(GeoLevel))}
    for code in (strata_level, psu_level):
        if code not in levels:
            if not levels:
                raise UserError(N_("the frame has no levels yet: import a frame first"))
            raise UserError(N_("'%(level)s' is not a level of the frame (levels: %(known)s)"),
                            level=code,
                            known=", ".join(sorted(levels, key=lambda c: levels[c].depth)))
    if levels[strata_level].depth >= levels[psu_level].depth:
        raise UserError(N_("the strata level '%(level)s' must be above the %(psu)s level"),
                        level=strata_level, psu=psu_level)
    units = {u.id: u for u in session.exec(select(AdminUnit))}
    inside = None if area is None else set(session.exec(select(subtree(area).c.id)))
    hamlets = sorted((u for u in units.values()
                      if u.level_id == levels[psu_level].id
                      and (u.valid_from is None or u.valid_from <= day)
                      and (u.valid_to is None or u.valid_to >= day)
                      and (inside is None or u.id in inside)),
                     key=lambda u: u.code)
    if not hamlets:
        raise UserError(N_("the frame has no current %(level)s units: import a frame first"),
                        level=psu_level)
    groups: dict[str, list[FrameHamlet]] = {}
    orphans, sizeless = [], []
    for hamlet in hamlets:
        up = todays_parent(hamlet, day)
        ancestor = units.get(up) if up else None
        for _ in range(len(units)):  # bounded: bad data with a cycle ends
            if ancestor is None or ancestor.level_id == levels[strata_level].id:
                break
            up = todays_parent(ancestor, day)
            ancestor = units.get(up) if up else None
        value = getattr(hamlet, size)
        if ancestor is None:
            orphans.append(hamlet.code)
        elif not value or value <= 0:
            sizeless.append(hamlet.code)
        else:
            groups.setdefault(ancestor.code, []).append(FrameHamlet(hamlet, ancestor, value))
    if orphans:
        raise UserError(N_("%(n)d %(psu)s unit(s) have no %(level)s above them (e.g. "
                           "%(codes)s): choose another strata level"), n=len(orphans),
                        psu=psu_level, level=strata_level, codes=", ".join(orphans[:3]))
    if sizeless:
        raise UserError(N_("%(n)d %(psu)s unit(s) have no positive %(size)s in the frame (e.g. "
                           "%(codes)s): fix the frame or choose another measure of size"),
                        n=len(sizeless), psu=psu_level, size=size,
                        codes=", ".join(sizeless[:3]))
    return dict(sorted(groups.items()))


def _enumerators(session: Session, usernames: Sequence[str], area: int | None = None
                 ) -> list[User]:
    """The named active accounts; for an area's round, only the area's (another's is none)."""
    found = []
    inside = None if area is None else set(session.exec(select(subtree(area).c.id)))
    for name in usernames:
        user = session.exec(select(User).where(User.username == name)).first()
        if user is None or not user.active or (
                inside is not None and user.scope_unit_id is not None
                and user.scope_unit_id not in inside):
            raise UserError(N_("no active user '%(name)s' to assign fieldwork to"), name=name)
        found.append(user)
    return found


def clear_sample(session: Session, round_: SurveyRound) -> int:
    """Remove a round's sample before a redraw; refused once responses point at it."""
    units = [su.id for su in
             session.exec(select(SampleUnit).where(SampleUnit.round_id == round_.id))]
    if not units:
        return 0
    keyed = session.exec(select(func.count()).select_from(Response)
                         .where(Response.sample_unit_id.in_(units))).one()  # type: ignore[union-attr]
    if keyed:
        raise UserError(N_("round %(round)s already has %(n)d responses keyed against its "
                           "sample: it cannot be redrawn"), round=round_.code, n=keyed)
    session.exec(delete(FieldAssignment).where(FieldAssignment.sample_unit_id.in_(units)))  # type: ignore[attr-defined]
    session.exec(delete(SampleUnit).where(SampleUnit.round_id == round_.id))  # type: ignore[arg-type]
    session.exec(delete(Stratum).where(Stratum.round_id == round_.id))  # type: ignore[arg-type]
    session.flush()
    return len(units)


def draw_sample(
    session: Session,
    round_code: str,
    *,
    strata_level: str,
    hamlets_per_stratum: int,
    per_hamlet: int,
    seed: int | None = None,
    certainty_threshold: float = 1.0,
    size: str = "households",
    enumerators: Sequence[str] = (),
    replace: bool = False,
    reason: str | None = None,
    user_id: int | None = None,
    on: date | None = None,
) -> SampleDraw:
    """Draw and store the round's sample; see the module docstring. ``on``: the map to
    draw from (default today's; an earlier day draws from the units valid then)."""
    if hamlets_per_stratum < 1:
        raise UserError(N_("the hamlets per stratum must be at least 1, got %(n)d"),
                        n=hamlets_per_stratum)
    if not 1 <= per_hamlet <= 999:
        raise UserError(N_("the questionnaires per hamlet must be 1–999 (their serials), got "
                           "%(n)d"), n=per_hamlet)
    if not 0 < certainty_threshold <= 1:
        raise UserError(N_("the certainty threshold must be above 0 and at most 1, got "
                           "%(value)s"), value=certainty_threshold)
    round_ = get_round(session, round_code, lock=True)
    ensure_open(round_, "draw its sample")
    existing = session.exec(select(func.count()).select_from(SampleUnit)
                            .where(SampleUnit.round_id == round_.id)).one()
    if existing and not replace:
        raise UserError(N_("round %(round)s already has a sample of %(n)d hamlets: to draw it "
                           "again, ask for a redraw and give the reason"), round=round_code,
                        n=existing)
    if existing and not (reason or "").strip():
        raise UserError(N_("a redraw of round %(round)s needs a reason"), round=round_code)
    groups = frame_hamlets(session, strata_level, size, area=round_.unit_id, on=on)
    small = [f"{code} ({len(h)})" for code, h in groups.items() if len(h) < hamlets_per_stratum]
    if small:
        raise UserError(N_("%(n)d strata have fewer hamlets than the %(k)d to draw per stratum: "
                           "%(strata)s"), n=len(small), k=hamlets_per_stratum,
                        strata=", ".join(small[:5]))
    staff = _enumerators(session, enumerators, round_.unit_id)
    clear_sample(session, round_)
    seed = secrets.randbelow(10**9) if seed is None else seed
    strata, drawn = [], []
    for code, hamlets in groups.items():
        sizes = [h.size for h in hamlets]
        probs = inclusion_probabilities(sizes, hamlets_per_stratum, certainty_threshold)
        picks = pps_systematic(sizes, hamlets_per_stratum, stratum_rng(seed, code),
                               certainty_threshold)
        stratum = Stratum(round_id=round_.id, code=code, name=hamlets[0].stratum.name,
                          population_psus=len(hamlets))
        session.add(stratum)
        session.flush()
        for i in picks:
            h = hamlets[i]
            psu = SampleUnit(
                round_id=round_.id, stratum_id=stratum.id, unit_id=h.unit.id,
                psu_code=f"{len(drawn) + 1:04d}", measure_of_size=h.size,
                prob_stage1=probs.pi[i], sample_size=per_hamlet,
            )  # fmt: skip
            session.add(psu)
            session.flush()
            keyer = staff[len(drawn) % len(staff)].id if staff else None
            session.add(FieldAssignment(sample_unit_id=psu.id, enumerator_id=keyer,
                                        first_serial=1, last_serial=per_hamlet))
            drawn.append(DrawnHamlet(psu.psu_code, h.unit.code, h.unit.name, code, h.size,
                                     probs.pi[i], probs.certainty[i]))
        strata.append(StratumDraw(code, stratum.name, len(hamlets), len(picks),
                                  sum(probs.certainty[i] for i in picks), sum(sizes)))
    session.flush()
    record(session, "sample.draw", "survey_round", round_.id, user_id=user_id,
           reason=(reason or "").strip() or None, detail={
        "redraw": bool(existing), "seed": seed, "strata_level": strata_level,
        "hamlets_per_stratum": hamlets_per_stratum, "per_hamlet": per_hamlet,
        "certainty_threshold": certainty_threshold, "size": size,
    })  # fmt: skip
    return SampleDraw(round_code, seed, tuple(strata), tuple(drawn), per_hamlet)
