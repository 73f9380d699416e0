"""A believable demo province, so that ``make run`` shows a working system at once.

Everything is fictitious (the province "An Hòa" does not exist) but shaped like a real
SIPAS round: districts as strata, hamlets drawn PPS by households, about 30 residents
per hamlet, realistic outcomes and a satisfaction pattern where element V (feedback
handling) is often unanswered — as it is in the field.
"""

from __future__ import annotations

import random
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from survey.instruments import Instrument as Form
from survey.models import AdminUnit, Desk, SampleUnit, Stratum, SurveyRound, User
from survey.services.geography import ensure_levels
from survey.services.instruments import latest_version
from survey.services.instruments_text import parse_stored
from survey.services.responses import store_response
from survey.services.sample.questionnaire_ids import make_questionnaire_id
from survey.services.users import create_user

DISTRICTS = {
    "Huyện Tân Phú": {
        "Xã Phú Lâm": ["Ấp Bàu Sen", "Ấp Phú Thịnh", "Ấp Cây Gáo", "Ấp Suối Đá"],
        "Xã Tân Hòa": ["Ấp Tân Lợi", "Ấp Hòa Bình", "Ấp Bưng Bàng"],
    },
    "Huyện Long Điền": {
        "Thị trấn Long Điền": ["Khu phố Long Hiệp", "Khu phố Long Tâm", "Khu phố Long Bình"],
        "Xã An Ngãi": ["Thôn An Thạnh", "Thôn An Hải", "Thôn Hải Sơn"],
    },
    "Thị xã Hòa Bình": {
        "Phường 1": ["Khu phố 1", "Khu phố 2", "Khu phố 3", "Khu phố 4"],
        "Xã Ninh Thạnh": ["Ấp Ninh Trung", "Ấp Ninh Phúc", "Ấp Bến Kéo"],
    },
}
URBAN_PREFIXES = ("Khu phố", "Thị trấn", "Phường")
HAMLETS_PER_STRATUM = 3
PERSONS_PER_HAMLET = 34  # questionnaires issued per hamlet
KEYED_PER_HAMLET = 30  # already keyed; the rest wait on paper for the entry screens
USERS = (
    ("admin", "admin", "Quản trị hệ thống"),
    ("giamsat", "supervisor", "Phạm Thu Hà"),
    ("nhaplieu1", "enumerator", "Nguyễn Thị Lan"),
    ("nhaplieu2", "enumerator", "Trần Văn Hùng"),
    ("nhaplieu3", "enumerator", "Lê Minh Tuấn"),
    ("phantich", "analyst", "Võ Ngọc Anh"),
)
DESKS = (  # code, name, agency, level, the unit it serves (its place in an account's area)
    ("TTHCC", "Trung tâm Phục vụ hành chính công tỉnh An Hòa", "UBND tỉnh", "province",
     "Tỉnh An Hòa"),
    ("MC-TANPHU", "Bộ phận Một cửa UBND huyện Tân Phú", "UBND huyện Tân Phú", "district",
     "Huyện Tân Phú"),
    ("MC-LONGDIEN", "Bộ phận Một cửa UBND huyện Long Điền", "UBND huyện Long Điền", "district",
     "Huyện Long Điền"),
    ("MC-PHULAM", "Bộ phận Một cửa UBND xã Phú Lâm", "UBND xã Phú Lâm", "commune",
     "Xã Phú Lâm"),
)


def build_demo(session: Session, secret: bytes, seed: int = 2025) -> str | None:
    """Build the demo into an empty database; return the report (with passwords) or None."""
    if session.exec(select(func.count()).select_from(AdminUnit)).one():
        return None
    rng = random.Random(seed)
    lines = ["Demo province An Hòa (fictitious) / Tỉnh An Hòa (dữ liệu mô phỏng)"]
    users = _users(session, lines)
    hamlets = _geography(session, rng)
    round_ = SurveyRound(code="2025", name="Khảo sát SIPAS 2025", year=2025)
    session.add(round_)
    session.flush()
    enumerators = [u for u in users if u.role == "enumerator"]
    sample = _sample(session, rng, round_, hamlets, [u.username for u in enumerators])
    hh_version = latest_version(session, "sipas_services")
    household = parse_stored(hh_version.source_text)
    counts: dict[str, int] = {}
    start = datetime(2025, 9, 8, 8, tzinfo=UTC)
    for index, (unit, stratum, psu) in enumerate(sample):
        keyer = enumerators[index % len(enumerators)]
        p2 = PERSONS_PER_HAMLET / psu.listed_persons
        for serial in range(1, KEYED_PER_HAMLET + 1):
            outcome = rng.choices(
                ["completed", "screened_out", "refused", "absent", "not_found"],
                weights=[82, 9, 4, 3, 2],
            )[0]
            answers = _household_answers(household, rng, outcome)
            store_response(
                session,
                instrument_version=hh_version,
                client_uuid=uuid.UUID(int=rng.getrandbits(128)),
                mode="paper",
                answers=answers,
                status="verified" if outcome in ("completed", "screened_out") else "received",
                outcome=outcome,
                round_id=round_.id,
                unit_id=unit.id,
                sample_unit_id=psu.id,
                stratum=stratum.code,
                psu=psu.psu_code,
                prob_stage1=psu.prob_stage1,
                prob_stage2=p2,
                weight=1 / (psu.prob_stage1 * p2),
                questionnaire_id=make_questionnaire_id(round_.id, psu.psu_code, serial),
                enumerator_id=keyer.id,
                created_at=start + timedelta(days=index * 3, minutes=serial * 7),
            )
            counts[outcome] = counts.get(outcome, 0) + 1
    desk_count = _desks_and_evaluations(session, rng, secret)
    lines.append(
        f"{len(sample)} sampled hamlets in 3 strata; {PERSONS_PER_HAMLET - KEYED_PER_HAMLET} "
        "questionnaires per hamlet still on paper (serials "
        f"{KEYED_PER_HAMLET + 1}-{PERSONS_PER_HAMLET}) for the entry screens"
    )
    lines.append(
        "household questionnaires keyed, by outcome: "
        + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    )
    lines.append(f"{len(DESKS)} one-stop desks with {desk_count} QR evaluations")
    return "\n".join(lines)


def _users(session: Session, lines: list[str]) -> list[User]:
    lines.append("Demo accounts (shown once; change them) / Tài khoản demo:")
    users = []
    for username, role, name in USERS:
        password = secrets.token_urlsafe(9)
        users.append(create_user(session, username, role, password, name))
        lines.append(f"  {username:<10} {role:<11} {password}")
    return users


def _geography(session: Session, rng: random.Random) -> dict[str, list[AdminUnit]]:
    levels = ensure_levels(session)
    province = AdminUnit(code="90", name="Tỉnh An Hòa", level_id=levels["province"].id)
    session.add(province)
    session.flush()
    hamlets: dict[str, list[AdminUnit]] = {}
    for d_index, (district_name, communes) in enumerate(DISTRICTS.items(), start=1):
        district = AdminUnit(
            code=f"90{d_index:02d}", name=district_name,
            level_id=levels["district"].id, parent_id=province.id,
        )  # fmt: skip
        session.add(district)
        session.flush()
        hamlets[district.code] = []
        for c_index, (commune_name, hamlet_names) in enumerate(communes.items(), start=1):
            urban = commune_name.startswith(URBAN_PREFIXES)
            commune = AdminUnit(
                code=f"{district.code}{c_index:02d}", name=commune_name,
                level_id=levels["commune"].id, parent_id=district.id,
                urban_rural="urban" if urban else "rural",
            )  # fmt: skip
            session.add(commune)
            session.flush()
            for h_index, hamlet_name in enumerate(hamlet_names, start=1):
                households = rng.randint(180, 650)
                hamlet = AdminUnit(
                    code=f"{commune.code}{h_index:02d}", name=hamlet_name,
                    level_id=levels["hamlet"].id, parent_id=commune.id,
                    urban_rural="urban" if urban or hamlet_name.startswith(URBAN_PREFIXES)
                    else "rural",
                    households=households, population=int(households * 3.6),
                )  # fmt: skip
                session.add(hamlet)
                hamlets[district.code].append(hamlet)
    session.flush()
    return hamlets


def _sample(
    session: Session,
    rng: random.Random,
    round_: SurveyRound,
    hamlets: dict[str, list[AdminUnit]],
    enumerators: list[str],
) -> list[tuple[AdminUnit, Stratum, SampleUnit]]:
    """PPS systematic selection of hamlets by households within each district.

    The real draw (:func:`survey.services.sample.draw.draw_sample`), seeded from the demo's
    generator; the field listing is simulated as 70% of the frame's population. The draw
    hands the hamlets to the enumerators in turn, as the demo's keyed responses assume.
    """
    from survey.services.sample.draw import draw_sample

    draw_sample(
        session, round_.code, strata_level="district", hamlets_per_stratum=HAMLETS_PER_STRATUM,
        per_hamlet=PERSONS_PER_HAMLET, seed=rng.randrange(10**9), enumerators=enumerators,
    )  # fmt: skip
    units = {u.id: u for units in hamlets.values() for u in units}
    chosen = []
    rows = session.exec(
        select(SampleUnit, Stratum)
        .join(Stratum, Stratum.id == SampleUnit.stratum_id)  # type: ignore[arg-type]
        .where(SampleUnit.round_id == round_.id)
        .order_by(SampleUnit.psu_code)
    ).all()
    for psu, stratum in rows:
        unit = units[psu.unit_id]
        psu.listed_persons = int((unit.population or 0) * 0.7)
        session.add(psu)
        chosen.append((unit, stratum, psu))
    session.flush()
    return chosen


def _satisfaction(rng: random.Random, item_code: str, mean_shift: float, na_rate: float) -> int:
    if rng.random() < na_rate:
        return 9
    base = rng.gauss(4.2 + mean_shift, 0.8)
    return max(1, min(5, round(base)))


def _household_answers(form: Form, rng: random.Random, outcome: str) -> dict[str, Any]:
    """Answers that follow the form's own skip logic, choices and ranges."""
    if outcome in ("refused", "absent", "not_found"):
        return {}
    answers: dict[str, Any] = {}
    shifts = {"I": 0.1, "II": 0.0, "III": 0.15, "IV": -0.05, "V": -0.35}
    for item in form.items:
        if item.relevant is not None and not item.relevant.evaluate(answers):
            continue
        if item.type == "note" or item.code == "dossier_code":
            continue
        if item.type == "scale":
            # "no answer" only where the form allows it: a desk evaluation's required items
            # take 1-5 (the Frictionless check of the export found 9s there)
            na = (0.45 if item.element == "V" else 0.04) if item.na_allowed else 0.0
            shift = shifts.get(item.element or "", 0.0)
            answers[item.code] = _satisfaction(rng, item.code, shift, na)
        elif item.type == "select_one":
            codes = list(item.choice_codes)
            if item.code == "s_procedure_12m":
                answers[item.code] = 2 if outcome == "screened_out" else 1
                continue
            codes = [c for c in codes if c not in (2, 98)] if item.code == "a_ethnicity" else codes
            answers[item.code] = rng.choice(codes)
        elif item.type == "select_multiple":
            codes = list(item.choice_codes)
            codes = [c for c in codes if c != 98] or codes  # "other" needs a text answer
            answers[item.code] = sorted(rng.sample(codes, k=rng.randint(1, min(2, len(codes)))))
        elif item.type in ("integer", "decimal"):
            low = int(item.min if item.min is not None else 1)
            high = int(item.max if item.max is not None else 10)
            answers[item.code] = rng.randint(low, min(high, low + 5))
        elif item.type == "text" and item.code == "comment" and rng.random() < 0.1:
            answers[item.code] = rng.choice(
                ["Cán bộ nhiệt tình, chu đáo.", "Cần rút ngắn thời gian chờ.",
                 "Nên có thêm chỗ ngồi và nước uống.", "Hướng dẫn rõ ràng, dễ hiểu."]
            )  # fmt: skip
    return answers


def _desks_and_evaluations(session: Session, rng: random.Random, secret: bytes) -> int:
    version = latest_version(session, "desk_evaluation")
    form = parse_stored(version.source_text)
    count = 0
    start = datetime(2025, 7, 1, 7, 30, tzinfo=UTC)
    for d_index, (code, name, agency, level, place) in enumerate(DESKS):
        unit = session.exec(select(AdminUnit).where(AdminUnit.name == place)).first()
        desk = Desk(code=code, name=name, agency=agency, admin_level=level,
                    unit_id=unit.id if unit is not None else None)
        session.add(desk)
        session.flush()
        for k in range(rng.randint(60, 140)):
            answers = _household_answers(form, rng, "completed")
            answers.pop("dossier_code", None)
            dossier = f"H{d_index + 1:02d}.{2025}.{k + 1:05d}" if rng.random() < 0.6 else None
            store_response(
                session, instrument_version=version,
                client_uuid=uuid.UUID(int=rng.getrandbits(128)), mode="qr", answers=answers,
                dossier_secret=secret, dossier_code=dossier, desk_id=desk.id,
                created_at=start + timedelta(hours=k * 29 + d_index),
            )  # fmt: skip
            count += 1
    session.flush()
    return count
