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

from sqlmodel import Session, select

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
from survey.services.sample.questionnaire_ids import check_questionnaire_id

HOUSEHOLD_FORM = "sipas_services"
DESK_FORM = "desk_evaluation"
_COMPACT_ID = re.compile(r"^(\d+)(\d{3})(\d)$")
_SLIP_SERIAL = re.compile(r"^[A-Za-z0-9-]{1,32}$")


class EntryError(ValueError):
    """A questionnaire ID or slip that cannot be keyed now, with the reason in both languages."""


@dataclass(frozen=True)
class SampledQuestionnaire:
    """A checked questionnaire ID and the sample row it belongs to."""

    questionnaire_id: str
    serial: int
    sample_unit: SampleUnit
    round: SurveyRound


def normalise_questionnaire_id(text: str) -> str:
    """Accept ``0101-003-7`` as printed, or the digits alone (``01010037``: two keys fewer)."""
    cleaned = re.sub(r"[\s./]", "", text or "")
    if "-" not in cleaned:
        match = _COMPACT_ID.match(cleaned)
        if match:
            return "-".join(match.groups())
    return cleaned


def locate_questionnaire(session: Session, text: str) -> SampledQuestionnaire:
    """The sampled hamlet of a questionnaire ID, or an :class:`EntryError` saying what is wrong."""
    qid = normalise_questionnaire_id(text)
    if not qid:
        raise EntryError("Hãy nhập mã phiếu / Type the questionnaire ID")
    if not check_questionnaire_id(qid):
        raise EntryError(
            f"Mã phiếu {qid} sai số kiểm tra — xem lại phiếu / "
            f"Questionnaire ID {qid} has a wrong check digit — look at the paper again"
        )
    psu_code, serial_text, _check = qid.split("-")
    serial = int(serial_text)
    row = session.exec(
        select(SampleUnit, SurveyRound)
        .join(SurveyRound, SurveyRound.id == SampleUnit.round_id)
        .where(SampleUnit.psu_code == psu_code, SurveyRound.status == RoundStatus.open.value)
        .order_by(SurveyRound.year.desc(), SurveyRound.id.desc())  # type: ignore[union-attr]
    ).first()
    if row is None:
        raise EntryError(
            f"Mã phiếu {qid}: thôn/ấp {psu_code} không có trong mẫu của đợt khảo sát đang mở / "
            f"Questionnaire ID {qid}: hamlet {psu_code} is not in the sample of an open round"
        )
    unit, round_ = row
    first, last = serial_range(session, unit)
    if not first <= serial <= last:
        raise EntryError(
            f"Mã phiếu {qid}: số thứ tự {serial} ngoài dãy {first}–{last} của thôn/ấp này / "
            f"Questionnaire ID {qid}: serial {serial} is outside this hamlet's range {first}–{last}"
        )
    return SampledQuestionnaire(qid, serial, unit, round_)


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


def locate_desk(session: Session, desk_code: str, slip_serial: str) -> tuple[Desk, str]:
    """A desk slip: an active desk and a printed serial (letters, digits and '-')."""
    code = (desk_code or "").strip().upper()
    serial = (slip_serial or "").strip()
    desk = session.exec(select(Desk).where(Desk.code == code)).first() if code else None
    if desk is None or not desk.active:
        raise EntryError(
            f"Không có bộ phận một cửa mã {code!r} / No active one-stop desk with code {code!r}"
        )
    if not _SLIP_SERIAL.match(serial):
        raise EntryError("Số phiếu in sẵn không hợp lệ / The printed slip serial is not valid")
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
    desk_code: str | None = None,
    slip_serial: str | None = None,
    double_share: float = 1.0,
    secret: bytes = b"",
) -> Keying:
    """Open (or resume) this keyer's pass on a document; the caller commits."""
    if questionnaire_id is not None:
        found = locate_questionnaire(session, questionnaire_id)
        key, label = f"Q:{found.round.id}:{found.questionnaire_id}", found.questionnaire_id
        if session.exec(select(Response.id).where(
                Response.round_id == found.round.id, Response.mode == Mode.paper.value,
                Response.questionnaire_id == found.questionnaire_id)).first() is not None:
            raise EntryError(f"Phiếu {label} đã được nhập xong / {label} is already entered")
        case_fields: dict[str, Any] = {
            "instrument_version_id": latest_version(session, HOUSEHOLD_FORM).id,
            "round_id": found.round.id, "sample_unit_id": found.sample_unit.id,
            "questionnaire_id": found.questionnaire_id,
        }  # fmt: skip
        carrier = assignee(session, found.sample_unit, found.serial)
    else:
        desk, serial = locate_desk(session, desk_code or "", slip_serial or "")
        key, label = f"D:{desk.code}:{serial}", f"{desk.code} / {serial}"
        case_fields = {"instrument_version_id": latest_version(session, DESK_FORM).id,
                       "desk_id": desk.id, "slip_serial": serial}
        carrier = None
    case = session.exec(select(EntryCase).where(EntryCase.entry_key == key)).first()
    if case is None:
        if keyer.role == "enumerator" and carrier not in (None, keyer.id):
            raise EntryError(
                f"Phiếu {label} được giao cho điều tra viên khác / "
                f"{label} is assigned to another enumerator"
            )
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
        raise EntryError(
            f"Bạn đã nhập phiếu {label}; lần nhập thứ hai phải do người khác / "
            f"You have already keyed {label}; the second keying must be by someone else"
        )
    if case.state in (CaseState.verified.value, CaseState.single.value):
        raise EntryError(f"Phiếu {label} đã được nhập xong / {label} is already entered")
    if case.state == CaseState.mismatch.value:
        raise EntryError(
            f"Phiếu {label} đã nhập hai lần và đang chờ giám sát đối chiếu / "
            f"{label} is keyed twice and waits for the supervisor's reconciliation"
        )
    if case.state == CaseState.open.value:
        raise EntryError(
            f"Phiếu {label} đang được người khác nhập lần một / "
            f"{label} is being keyed for the first time by someone else"
        )
    return _new_pass(session, case, 2, keyer)


def _new_pass(session: Session, case: EntryCase, pass_no: int, keyer: User) -> Keying:
    keying = Keying(case_id=case.id, pass_no=pass_no, keyer_id=keyer.id)
    case.updated_at = utcnow()
    session.add_all([keying, case])
    session.flush()
    return keying
