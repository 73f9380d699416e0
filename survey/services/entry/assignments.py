"""Who carries which questionnaires: a sampled hamlet, or a sub-range of its serials.

The draw (:mod:`survey.services.sample.draw`) gives each sampled hamlet a ``field_assignment``
row: its serial range and a default enumerator. A supervisor may reassign the hamlet or
hand a sub-range of its serials to another enumerator (``serial_assignment``), so that two
enumerators can share a large hamlet. The first keying of a questionnaire is reserved for
the enumerator who carries it (:func:`assignee`); the blind second keying is by someone
else by design. A published round is frozen, so its assignments cannot change. Every
change is audited; every refusal is an :class:`AssignmentError` in both languages.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from survey.messages import N_, UserError
from survey.models import AdminUnit, Mode, Response, SampleUnit, Stratum, SurveyRound, User
from survey.models_entry import EntryCase, SerialAssignment
from survey.models_sample import FieldAssignment
from survey.services.audit import record
from survey.services.locks import locked
from survey.services.sample.questionnaire_ids import make_questionnaire_id, serial_of
from survey.services.sample.rounds import ensure_open
from survey.services.scope import EVERYTHING, Scope, within


class AssignmentError(UserError):
    """An assignment that cannot be made, with a reason the supervisor can act on."""


@dataclass(frozen=True)
class SerialRange:
    """Serials ``first``–``last`` of a hamlet carried by one enumerator."""

    id: int | None  # None: the hamlet's own (default) assignment
    first: int
    last: int
    enumerator_id: int | None
    enumerator: str  # username, "" when nobody is assigned
    first_qid: str
    last_qid: str


@dataclass(frozen=True)
class HamletAssignment:
    """A sampled hamlet, its questionnaire IDs and who carries them."""

    sample_unit_id: int
    round_id: int
    psu_code: str
    hamlet: str
    stratum: str
    first: int
    last: int
    enumerator_id: int | None
    enumerator: str
    ranges: tuple[SerialRange, ...]  # sub-ranges, in serial order
    keyed: frozenset[int]  # serials already keyed at least once

    @property
    def first_qid(self) -> str:
        return make_questionnaire_id(self.round_id, self.psu_code, self.first)

    @property
    def last_qid(self) -> str:
        return make_questionnaire_id(self.round_id, self.psu_code, self.last)


def hamlet_range(session: Session, unit: SampleUnit) -> tuple[int, int]:
    """The hamlet's serials: its field assignment, else 1..planned sample size."""
    row = _hamlet_row(session, unit)
    return (row.first_serial, row.last_serial) if row else (1, max(unit.sample_size, 0))


def assignee(session: Session, unit: SampleUnit, serial: int) -> int | None:
    """The enumerator who carries this serial (a sub-range first), or None: anyone may key."""
    sub = session.exec(select(SerialAssignment).where(
        SerialAssignment.sample_unit_id == unit.id, SerialAssignment.first_serial <= serial,
        SerialAssignment.last_serial >= serial)).first()
    if sub is not None:
        return sub.enumerator_id
    row = _hamlet_row(session, unit)
    return row.enumerator_id if row else None


def round_assignments(session: Session, round_: SurveyRound,
                      scope: Scope = EVERYTHING) -> list[HamletAssignment]:
    """Every sampled hamlet of the round (in the area) with its IDs, assignments and keyed
    serials."""
    units = session.exec(select(SampleUnit).where(SampleUnit.round_id == round_.id,
                                                  within(scope, SampleUnit.unit_id))
                         .order_by(SampleUnit.psu_code)).all()
    return [_describe(session, unit, _keyed_serials(session, round_.id, unit)) for unit in units]


def my_assignments(session: Session, user: User) -> list[tuple[HamletAssignment, SerialRange]]:
    """The hamlets and serial ranges this enumerator carries in open rounds, nothing else."""
    out = []
    rounds = session.exec(select(SurveyRound).where(SurveyRound.status == "open")).all()
    for round_ in rounds:
        for hamlet in round_assignments(session, round_):
            out.extend((hamlet, r) for r in effective_ranges(hamlet) if r.enumerator_id == user.id)
    return out


def effective_ranges(hamlet: HamletAssignment) -> list[SerialRange]:
    """The hamlet cut into consecutive ranges, each with the enumerator who carries it."""
    pieces, serial = [], hamlet.first
    for sub in hamlet.ranges:
        if sub.first > serial:
            pieces.append(_range(hamlet, None, serial, sub.first - 1, hamlet.enumerator_id,
                                 hamlet.enumerator))
        pieces.append(sub)
        serial = sub.last + 1
    if serial <= hamlet.last:
        pieces.append(_range(hamlet, None, serial, hamlet.last, hamlet.enumerator_id,
                             hamlet.enumerator))
    return pieces


def assign(session: Session, sample_unit_id: int, enumerator_id: int, first: int | None = None,
           last: int | None = None, *, by: int | None = None) -> str:
    """Give the whole hamlet (no serials) or serials ``first``–``last`` to an enumerator.

    Assigning the whole hamlet replaces its sub-ranges; a sub-range must lie inside the
    hamlet's sample and may not overlap another sub-range, except that the same range may
    be given to someone else (a reassignment). Returns a summary; the caller commits.
    """
    unit, round_ = _open_unit(session, sample_unit_id)
    user = session.get(User, enumerator_id)
    if user is None or not user.active or user.role != "enumerator":
        raise AssignmentError(N_("Questionnaires can only be assigned to an active enumerator"))
    low, high = hamlet_range(session, unit)
    whole = first is None and last is None
    if whole:
        first, last = low, high
    if first is None or last is None:
        raise AssignmentError(N_("Give both the first and the last serial of the range"))
    if not (low <= first <= last <= high):
        raise AssignmentError(N_("Range %(first)d–%(last)d must lie within hamlet %(psu)s's range "
                                 "%(low)d–%(high)d"), first=first, last=last, psu=unit.psu_code,
                              low=low, high=high)
    detail = {"round": round_.code, "psu": unit.psu_code, "first": first, "last": last,
              "enumerator": user.username}
    if whole or (first, last) == (low, high):
        row = _hamlet_row(session, unit) or FieldAssignment(
            sample_unit_id=unit.id, first_serial=low, last_serial=high)
        detail["previous"] = _username(session, row.enumerator_id)
        row.enumerator_id = user.id
        session.add(row)
        dropped = _sub_ranges(session, unit)
        for sub in dropped:
            session.delete(sub)
        detail["replaced_ranges"] = [f"{s.first_serial}-{s.last_serial}" for s in dropped]
        record(session, "assignment.hamlet", "sample_unit", unit.id, user_id=by, detail=detail)
        session.flush()
        return f"{unit.psu_code}: {low}–{high} → {user.username}"
    same = None
    for sub in _sub_ranges(session, unit):
        if (sub.first_serial, sub.last_serial) == (first, last):
            same = sub
        elif sub.first_serial <= last and first <= sub.last_serial:
            raise AssignmentError(
                N_("Range %(first)d–%(last)d overlaps range %(other_first)d–%(other_last)d "
                   "assigned to %(name)s; remove that one first"), first=first, last=last,
                other_first=sub.first_serial, other_last=sub.last_serial,
                name=_username(session, sub.enumerator_id))
    if same is None:
        same = SerialAssignment(sample_unit_id=unit.id, enumerator_id=user.id,
                                first_serial=first, last_serial=last)
    detail["previous"] = _username(session, same.enumerator_id) if same.id else ""
    same.enumerator_id, same.assigned_by = user.id, by
    session.add(same)
    session.flush()
    record(session, "assignment.range", "sample_unit", unit.id, user_id=by, detail=detail)
    return f"{unit.psu_code}: {first}–{last} → {user.username}"


def unassign_range(session: Session, range_id: int, *, by: int | None = None) -> str:
    """Remove a sub-range: its serials go back to the hamlet's enumerator."""
    sub = session.get(SerialAssignment, range_id)
    if sub is None:
        raise AssignmentError(N_("No such serial range"))
    unit, round_ = _open_unit(session, sub.sample_unit_id)
    if session.get(SerialAssignment, range_id, populate_existing=True) is None:
        raise AssignmentError(N_("No such serial range"))  # removed while we waited for the lock
    record(session, "assignment.range_removed", "sample_unit", unit.id, user_id=by, detail={
        "round": round_.code, "psu": unit.psu_code, "first": sub.first_serial,
        "last": sub.last_serial, "enumerator": _username(session, sub.enumerator_id)})
    session.delete(sub)
    session.flush()
    return f"{unit.psu_code}: {sub.first_serial}–{sub.last_serial}"


def _open_unit(session: Session, sample_unit_id: int) -> tuple[SampleUnit, SurveyRound]:
    """The sampled hamlet, locked: its assignments change one request at a time, so the
    overlap check sees every range stored before (six overlapping ranges given at once
    were four stored ranges over the same serials)."""
    unit = locked(session, SampleUnit, sample_unit_id)
    if unit is None:
        raise AssignmentError(N_("No such sampled hamlet"))
    round_ = session.get(SurveyRound, unit.round_id)
    assert round_ is not None
    try:
        ensure_open(round_, "change its fieldwork assignments")
    except ValueError:
        raise AssignmentError(N_("Round %(round)s is published (its data are frozen): its "
                                 "assignments cannot change"), round=round_.code) from None
    return unit, round_


def _hamlet_row(session: Session, unit: SampleUnit) -> FieldAssignment | None:
    return session.exec(select(FieldAssignment)
                        .where(FieldAssignment.sample_unit_id == unit.id)).first()


def _sub_ranges(session: Session, unit: SampleUnit) -> list[SerialAssignment]:
    return list(session.exec(select(SerialAssignment)
                             .where(SerialAssignment.sample_unit_id == unit.id)
                             .order_by(col(SerialAssignment.first_serial))))


def _username(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id is not None else None
    return user.username if user else ""


def _range(hamlet: HamletAssignment, range_id: int | None, first: int, last: int,
           enumerator_id: int | None, enumerator: str) -> SerialRange:
    return SerialRange(range_id, first, last, enumerator_id, enumerator,
                       make_questionnaire_id(hamlet.round_id, hamlet.psu_code, first),
                       make_questionnaire_id(hamlet.round_id, hamlet.psu_code, last))


def _keyed_serials(session: Session, round_id: int, unit: SampleUnit) -> frozenset[int]:
    """Serials with a stored paper response or a keying case (of any state)."""
    ids = set(session.exec(select(Response.questionnaire_id).where(
        Response.round_id == round_id, Response.mode == Mode.paper.value,
        Response.sample_unit_id == unit.id)))
    ids |= set(session.exec(select(EntryCase.questionnaire_id)
                            .where(EntryCase.sample_unit_id == unit.id)))
    return frozenset(s for s in map(serial_of, ids) if s is not None)


def _describe(session: Session, unit: SampleUnit, keyed: frozenset[int]) -> HamletAssignment:
    first, last = hamlet_range(session, unit)
    row = _hamlet_row(session, unit)
    owner = row.enumerator_id if row else None
    place = session.get(AdminUnit, unit.unit_id)
    stratum = session.get(Stratum, unit.stratum_id)
    psu = unit.psu_code
    subs = tuple(
        SerialRange(s.id, s.first_serial, s.last_serial, s.enumerator_id,
                    _username(session, s.enumerator_id),
                    make_questionnaire_id(unit.round_id, psu, s.first_serial),
                    make_questionnaire_id(unit.round_id, psu, s.last_serial))
        for s in _sub_ranges(session, unit))
    assert unit.id is not None
    return HamletAssignment(unit.id, unit.round_id, psu, place.name if place else "",
                            stratum.code if stratum else "", first, last, owner,
                            _username(session, owner), subs, keyed)
