"""Which paper document is being keyed, what the sample says about it, and which pass it is.

The keyer types only the questionnaire ID (or, for a desk slip, the desk code and the slip's
printed serial). Everything the design needs — hamlet, stratum, PSU, probabilities,
weight — comes from the sample, so it can never be mistyped. Every refusal is an
:class:`EntryError` with a message the keyer can act on at once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from survey.messages import N_, UserError
from survey.models import (
    Desk,
    Mode,
    Response,
    RoundStatus,
    SampleUnit,
    Stratum,
    SurveyRound,
    User,
    utcnow,
)
from survey.models_entry import CaseState, EntryCase, Keying
from survey.services.entry.assignments import assignee, hamlet_range
from survey.services.instruments import latest_version
from survey.services.sample.questionnaire_ids import (
    legacy_questionnaire_id,
    make_questionnaire_id,
    parse_questionnaire_id,
)
from survey.services.scope import EVERYTHING, Scope, desks_within, within

HOUSEHOLD_FORM = "sipas_services"
DESK_FORM = "desk_evaluation"
_SLIP_SERIAL = re.compile(r"^[A-Za-z0-9-]{1,32}$")


class EntryError(UserError):
    """A questionnaire ID or slip that cannot be keyed now, with a reason the keyer can act on."""


@dataclass(frozen=True)
class SampledQuestionnaire:
    """A checked questionnaire ID and the sample row it belongs to."""

    questionnaire_id: str
    serial: int
    sample_unit: SampleUnit
    round: SurveyRound


def normalise_questionnaire_id(text: str) -> str:
    """The ID as typed, without spaces, dots or slashes (for messages)."""
    return re.sub(r"[\s./]", "", text or "")


def locate_questionnaire(session: Session, text: str, round_code: str | None = None,
                         scope: Scope = EVERYTHING) -> SampledQuestionnaire:
    """The sampled hamlet of a questionnaire ID, or an :class:`EntryError` saying what is wrong.

    A current ID names its round; a legacy ID (paper printed before round prefixes) is
    looked up in every open round, and when it exists in more than one the keyer chooses
    the round (``round_code``). Leftover paper of an earlier open round thus lands in its
    own round, never silently in the newest one.
    """
    typed = normalise_questionnaire_id(text)
    if not typed:
        raise EntryError(N_("Type the questionnaire ID"))
    readings = parse_questionnaire_id(typed)
    if not readings:
        raise EntryError(N_("Questionnaire ID %(qid)s has a wrong check digit — look at the "
                            "paper again"), qid=typed)
    found: list[SampledQuestionnaire] = []
    beyond: list[tuple[SurveyRound, tuple[int, int]]] = []
    published: list[SurveyRound] = []
    for reading in readings:
        query = (select(SampleUnit, SurveyRound)
                 .join(SurveyRound, SurveyRound.id == SampleUnit.round_id)
                 .where(SampleUnit.psu_code == reading.psu_code,
                        within(scope, SampleUnit.unit_id)))  # another area's: not found
        if reading.round_id is not None:
            query = query.where(SurveyRound.id == reading.round_id)
        for unit, round_ in session.exec(query):
            if round_.status != RoundStatus.open.value:
                published.append(round_)
                continue
            first, last = serial_range(session, unit)
            if not first <= reading.serial <= last:
                beyond.append((round_, (first, last)))
                continue
            assert round_.id is not None
            qid = make_questionnaire_id(round_.id, unit.psu_code, reading.serial)
            found.append(SampledQuestionnaire(qid, reading.serial, unit, round_))
    if round_code:
        found = [f for f in found if f.round.code == round_code]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        rounds = ", ".join(sorted(f.round.code for f in found))
        raise EntryError(N_("Questionnaire ID %(qid)s is in the sample of more than one open "
                            "round (%(rounds)s): choose the questionnaire's round"),
                         qid=typed, rounds=rounds)
    if round_code:
        raise EntryError(N_("Questionnaire ID %(qid)s is not in the sample of round %(round)s"),
                         qid=typed, round=round_code)
    if beyond:
        round_, (first, last) = beyond[0]
        raise EntryError(N_("Questionnaire ID %(qid)s: serial %(serial)d is outside this "
                            "hamlet's range %(first)d–%(last)d (round %(round)s)"), qid=typed,
                         serial=readings[0].serial, first=first, last=last, round=round_.code)
    if published:
        raise EntryError(N_("Questionnaire ID %(qid)s belongs to round %(round)s, which is "
                            "published (its data are frozen): it cannot be keyed"),
                         qid=typed, round=published[0].code)
    raise EntryError(N_("Questionnaire ID %(qid)s: hamlet %(psu)s is not in the sample of an "
                        "open round"), qid=typed, psu=readings[0].psu_code)


def serial_range(session: Session, unit: SampleUnit) -> tuple[int, int]:
    """The hamlet's questionnaire serials: its field assignment, else 1..planned sample size."""
    return hamlet_range(session, unit)


def design_meta(session: Session, unit: SampleUnit) -> dict[str, Any]:
    """The response's design columns, copied from the sample (never typed).

    Stage 2 (a person within the hamlet) has probability planned sample / listed persons,
    as in the demo and the weighting module; without a listing the weight stays empty
    and the weighting step fills it.
    """
    stratum = session.get(Stratum, unit.stratum_id)
    prob2 = None
    if unit.listed_persons and unit.sample_size:
        prob2 = min(1.0, unit.sample_size / unit.listed_persons)
    weight = 1 / (unit.prob_stage1 * prob2) if prob2 else None
    return {
        "round_id": unit.round_id, "sample_unit_id": unit.id, "unit_id": unit.unit_id,
        "stratum": stratum.code if stratum else None, "psu": unit.psu_code,
        "prob_stage1": unit.prob_stage1, "prob_stage2": prob2, "weight": weight,
    }  # fmt: skip


def locate_desk(session: Session, desk_code: str, slip_serial: str,
                scope: Scope = EVERYTHING) -> tuple[Desk, str]:
    """A desk slip: an active desk of the area and a printed serial (letters, digits, '-')."""
    code = (desk_code or "").strip().upper()
    serial = (slip_serial or "").strip()
    desk = session.exec(select(Desk).where(Desk.code == code, desks_within(scope))
                        ).first() if code else None
    if desk is None or not desk.active:
        raise EntryError(N_("No active one-stop desk with code %(code)s"), code=code or "—")
    if not _SLIP_SERIAL.match(serial):
        raise EntryError(N_("The printed slip serial is not valid"))
    return desk, serial


def drawn_for_double(entry_key: str, share: float, secret: bytes) -> bool:
    """Is this document keyed twice? A keyed hash, so keyers cannot predict which ones."""
    if not 0 <= share <= 1:
        raise ValueError(f"the double-keyed share must be between 0 and 1, got {share}")
    digest = hmac.new(secret, entry_key.encode("utf-8"), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def start_keying(
    session: Session,
    keyer: User,
    *,
    questionnaire_id: str | None = None,
    round_code: str | None = None,
    desk_code: str | None = None,
    slip_serial: str | None = None,
    double_share: float = 1.0,
    secret: bytes = b"",
    scope: Scope = EVERYTHING,
) -> Keying:
    """Open (or resume) this keyer's pass on a document of the keyer's area; the caller
    commits."""
    keys: tuple[str, ...]
    if questionnaire_id is not None:
        found = locate_questionnaire(session, questionnaire_id, round_code, scope)
        label = found.questionnaire_id
        # Paper keyed before round prefixes existed is stored under its legacy ID.
        forms = (label, legacy_questionnaire_id(found.sample_unit.psu_code, found.serial))
        keys = tuple(f"Q:{found.round.id}:{qid}" for qid in forms)
        if session.exec(select(Response.id).where(
                Response.round_id == found.round.id, Response.mode == Mode.paper.value,
                col(Response.questionnaire_id).in_(forms))).first() is not None:
            raise EntryError(N_("%(label)s is already entered"), label=label)
        case_fields: dict[str, Any] = {
            "instrument_version_id": latest_version(session, HOUSEHOLD_FORM).id,
            "round_id": found.round.id, "sample_unit_id": found.sample_unit.id,
            "questionnaire_id": found.questionnaire_id,
        }  # fmt: skip
        carrier = assignee(session, found.sample_unit, found.serial)
    else:
        desk, serial = locate_desk(session, desk_code or "", slip_serial or "", scope)
        keys, label = (f"D:{desk.code}:{serial}",), f"{desk.code} / {serial}"
        case_fields = {"instrument_version_id": latest_version(session, DESK_FORM).id,
                       "desk_id": desk.id, "slip_serial": serial}
        carrier = None
    case = session.exec(select(EntryCase).where(col(EntryCase.entry_key).in_(keys))).first()
    if case is None:
        if keyer.role == "enumerator" and carrier not in (None, keyer.id):
            raise EntryError(N_("%(label)s is assigned to another enumerator"), label=label)
        key = keys[0]
        case = EntryCase(entry_key=key, double_required=drawn_for_double(key, double_share,
                                                                          secret), **case_fields)
        session.add(case)
        session.flush()
        return _new_pass(session, case, 1, keyer)
    return _next_pass(session, case, keyer, label)


def _next_pass(session: Session, case: EntryCase, keyer: User, label: str) -> Keying:
    passes = {k.pass_no: k for k in session.exec(select(Keying).where(Keying.case_id == case.id))}
    mine = next((k for k in passes.values() if k.keyer_id == keyer.id), None)
    if mine is not None and mine.state == "draft":
        return mine
    if mine is not None:
        raise EntryError(N_("You have already keyed %(label)s; the second keying must be by "
                            "someone else"), label=label)
    if case.state in (CaseState.verified.value, CaseState.single.value):
        raise EntryError(N_("%(label)s is already entered"), label=label)
    if case.state == CaseState.mismatch.value:
        raise EntryError(N_("%(label)s is keyed twice and waits for the supervisor's "
                            "reconciliation"), label=label)
    if case.state == CaseState.open.value:
        raise EntryError(N_("%(label)s is being keyed for the first time by someone else"),
                         label=label)
    return _new_pass(session, case, 2, keyer)


def _new_pass(session: Session, case: EntryCase, pass_no: int, keyer: User) -> Keying:
    keying = Keying(case_id=case.id, pass_no=pass_no, keyer_id=keyer.id)
    case.updated_at = utcnow()
    session.add_all([keying, case])
    session.flush()
    return keying
