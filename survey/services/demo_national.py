"""A believable national deployment, so that the ministry's screens can be seen (and
measured) at their real size: ``sipas init --demo national``.

The 34 provinces and centrally-run cities of the July 2025 map (their real names; every
commune, hamlet, desk and answer is invented), each with communes and hamlets (the
two-level local government of 2025: no districts), one-stop desks, its households in the
ministry's national round (communes as strata, drawn by the app's own PPS draw; each
province sees, keys and checks its part), and desk evaluations spread over a quarter.
Accounts: the ministry's (whole country) and one supervisor per province, limited to it.

The old map is there too: the 29 provinces merged away on 1 July 2025 (real names and the
real mergers), each ended and naming the province that took it over, with invented
communes and hamlets taken over by the new province's, and a round 2024 drawn on that map
(the 63 provinces as strata). Read on today's map, it shows what the reform merged and
lets 2024 and 2025 be compared for the same areas.

Provinces differ on purpose (a satisfaction shift per province), so that the ranking and
the "cannot be told apart" words have something to say. Desk evaluations are written in
bulk (one statement per few thousand rows, the tally triggers keeping the dashboard's
counts), a few hundred thousand in a minute or two.
"""

from __future__ import annotations

import random
import secrets
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, text
from sqlmodel import Session, select

from survey.models import AdminUnit, Answer, Desk, Response, SampleUnit, Stratum, User
from survey.services.demo import _household_answers, _satisfaction
from survey.services.geography import LEVELS_2025, ensure_levels
from survey.services.instruments import latest_version
from survey.services.instruments_text import parse_stored
from survey.services.reports import tallies
from survey.services.responses import answer_values, content_hash, store_response
from survey.services.sample.questionnaire_ids import make_questionnaire_id
from survey.services.sample.rounds import create_round
from survey.services.users import create_user

# (code, name) of the 34 provinces and cities from 1 July 2025 (Resolution 202/2025/QH15).
# Codes are the demo's own: each is the old code of the province whose name it kept.
PROVINCES = (
    ("01", "Thành phố Hà Nội"), ("04", "Tỉnh Cao Bằng"), ("08", "Tỉnh Tuyên Quang"),
    ("11", "Tỉnh Điện Biên"), ("12", "Tỉnh Lai Châu"), ("14", "Tỉnh Sơn La"),
    ("10", "Tỉnh Lào Cai"), ("19", "Tỉnh Thái Nguyên"), ("20", "Tỉnh Lạng Sơn"),
    ("22", "Tỉnh Quảng Ninh"), ("27", "Tỉnh Bắc Ninh"), ("25", "Tỉnh Phú Thọ"),
    ("31", "Thành phố Hải Phòng"), ("33", "Tỉnh Hưng Yên"), ("37", "Tỉnh Ninh Bình"),
    ("38", "Tỉnh Thanh Hóa"), ("40", "Tỉnh Nghệ An"), ("42", "Tỉnh Hà Tĩnh"),
    ("45", "Tỉnh Quảng Trị"), ("46", "Thành phố Huế"), ("48", "Thành phố Đà Nẵng"),
    ("51", "Tỉnh Quảng Ngãi"), ("64", "Tỉnh Gia Lai"), ("56", "Tỉnh Khánh Hòa"),
    ("66", "Tỉnh Đắk Lắk"), ("68", "Tỉnh Lâm Đồng"), ("75", "Tỉnh Đồng Nai"),
    ("79", "Thành phố Hồ Chí Minh"), ("72", "Tỉnh Tây Ninh"), ("87", "Tỉnh Đồng Tháp"),
    ("86", "Tỉnh Vĩnh Long"), ("89", "Tỉnh An Giang"), ("92", "Thành phố Cần Thơ"),
    ("96", "Tỉnh Cà Mau"),
)
# The other 29 of the 63 provinces before 1 July 2025: (old code, name, the province that
# took it over). With the 34 above (which existed before too) they are the old map.
MERGED_2025 = (
    ("02", "Tỉnh Hà Giang", "08"), ("06", "Tỉnh Bắc Kạn", "19"), ("15", "Tỉnh Yên Bái", "10"),
    ("17", "Tỉnh Hòa Bình", "25"), ("26", "Tỉnh Vĩnh Phúc", "25"),
    ("24", "Tỉnh Bắc Giang", "27"), ("34", "Tỉnh Thái Bình", "33"),
    ("30", "Tỉnh Hải Dương", "31"), ("35", "Tỉnh Hà Nam", "37"), ("36", "Tỉnh Nam Định", "37"),
    ("44", "Tỉnh Quảng Bình", "45"), ("49", "Tỉnh Quảng Nam", "48"),
    ("62", "Tỉnh Kon Tum", "51"), ("52", "Tỉnh Bình Định", "64"),
    ("58", "Tỉnh Ninh Thuận", "56"), ("67", "Tỉnh Đắk Nông", "68"),
    ("60", "Tỉnh Bình Thuận", "68"), ("54", "Tỉnh Phú Yên", "66"),
    ("74", "Tỉnh Bình Dương", "79"), ("77", "Tỉnh Bà Rịa - Vũng Tàu", "79"),
    ("70", "Tỉnh Bình Phước", "75"), ("80", "Tỉnh Long An", "72"),
    ("94", "Tỉnh Sóc Trăng", "92"), ("93", "Tỉnh Hậu Giang", "92"),
    ("83", "Tỉnh Bến Tre", "86"), ("84", "Tỉnh Trà Vinh", "86"),
    ("82", "Tỉnh Tiền Giang", "87"), ("95", "Tỉnh Bạc Liêu", "96"),
    ("91", "Tỉnh Kiên Giang", "89"),
)
LAST_DAY = date(2025, 6, 30)  # of the old map
COMMUNES = 6  # per province; each a stratum of its round
HAMLETS = 4  # per commune; two drawn
DRAWN = 2
QUESTIONNAIRES = 10  # keyed per drawn hamlet
DESKS = 4  # per province: its public service centre and three communes' desks
CHUNK = 5000  # desk evaluations per round of statements
TALLY_TRIGGERS = (("response", "desk_tally_response_write"), ("answer", "desk_tally_answer_insert"))


def build_national_demo(session: Session, secret: bytes, evaluations: int = 300_000,
                        seed: int = 2025) -> str | None:
    """Build it into an empty database; return the report (with passwords) or None."""
    if session.exec(select(func.count()).select_from(AdminUnit)).one():
        return None
    rng = random.Random(seed)
    lines = ["National demo (34 provinces; communes, hamlets, desks and answers invented) / "
             "Dữ liệu mô phỏng toàn quốc (34 tỉnh, thành phố)",
             "Accounts (shown once; change them) / Tài khoản demo:"]
    levels = ensure_levels(session, LEVELS_2025)
    for username, role, name in (("bo-quantri", "admin", "Quản trị hệ thống (Bộ Nội vụ)"),
                                 ("bo-giamsat", "supervisor", "Vụ Cải cách hành chính"),
                                 ("bo-phantich", "analyst", "Chuyên viên phân tích (Bộ)")):
        password = secrets.token_urlsafe(9)
        create_user(session, username, role, password, name)
        lines.append(f"  {username:<16} {role:<11} {password}  (whole country)")
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        # The build is one transaction, so every tally row a trigger updates keeps all its
        # versions to the end: 400 monthly desk counts updated 300,000 times made each
        # update slower than the last. The tally triggers are off for the load, and the
        # tallies counted from the rows once at the end (as ``sipas tallies rebuild``).
        for table, trigger in TALLY_TRIGGERS:
            session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}"))
    household = latest_version(session, "sipas_services")
    form = parse_stored(household.source_text)
    desk_version = latest_version(session, "desk_evaluation")
    desk_form = parse_stored(desk_version.source_text)
    shifts = {code: rng.gauss(0, 0.25) for code, _name in PROVINCES}
    desks: list[tuple[Desk, float]] = []
    keyers: dict[str, User] = {}
    for code, name in PROVINCES:
        province = AdminUnit(code=code, name=name, level_id=levels["province"].id)
        session.add(province)
        session.flush()
        communes = _communes(session, levels, province, rng)
        password = secrets.token_urlsafe(9)
        keyer = keyers[code] = create_user(
            session, f"t{code}-giamsat", "supervisor", password,
            f"Sở Nội vụ {name.removeprefix('Thành phố ').removeprefix('Tỉnh ')}",
            scope_unit_id=province.id)
        lines.append(f"  {keyer.username:<16} supervisor  {password}  ({name})")
        for k, commune in enumerate([province, *communes[:DESKS - 1]]):
            desk = Desk(code=f"MC-{code}-{k}", name=(
                f"Trung tâm Phục vụ hành chính công {name}" if k == 0 else
                f"Bộ phận Một cửa {commune.name}, {name}"), agency=(
                f"UBND {name}" if k == 0 else f"UBND {commune.name}, {name}"),
                admin_level="province" if k == 0 else "commune", unit_id=commune.id)
            session.add(desk)
            desks.append((desk, shifts[code]))
    session.flush()
    _old_map(session, levels, rng, shifts)
    keyers.update({old: keyers[new] for old, _name, new in MERGED_2025})  # the province now
    before = _round(session, rng, household, form, keyers, shifts, "2024",
                    "Khảo sát SIPAS 2024 (63 tỉnh, thành phố)", "province",
                    date(2024, 6, 1), datetime(2024, 9, 9, 8, tzinfo=UTC))
    keyed = _round(session, rng, household, form, keyers, shifts, "2025",
                   "Khảo sát SIPAS 2025 (toàn quốc)", "commune", None,
                   datetime(2025, 9, 8, 8, tzinfo=UTC))
    stored = _evaluations(session, rng, desk_version.id, desk_form, desks,  # type: ignore[arg-type]
                          evaluations)
    if postgres:
        for table, trigger in TALLY_TRIGGERS:
            session.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}"))
        tallies.rebuild(session)
        session.execute(text("ANALYZE"))  # statistics of the loaded tables for the first pages
    lines.append(f"{len(PROVINCES)} provinces × {COMMUNES} communes × {HAMLETS} hamlets; the "
                 f"national round 2025 ({DRAWN} hamlets drawn per commune, communes as "
                 f"strata), {keyed} household questionnaires keyed and verified; "
                 f"{len(desks)} desks with {stored} evaluations in 2026-Q1")
    lines.append(f"the old map ({len(PROVINCES) + len(MERGED_2025)} provinces until "
                 f"{LAST_DAY.isoformat()}) and its round 2024 ({DRAWN} hamlets per province, "
                 f"{before} questionnaires), reported on today's map")
    return "\n".join(lines)


def _communes(session: Session, levels: dict[str, Any], province: AdminUnit,
              rng: random.Random) -> list[AdminUnit]:
    out = []
    for c in range(1, COMMUNES + 1):
        commune = AdminUnit(code=f"{province.code}{c:03d}",
                            name=("Phường" if c <= 2 else "Xã") + f" Số {c}",
                            level_id=levels["commune"].id, parent_id=province.id,
                            urban_rural="urban" if c <= 2 else "rural")
        session.add(commune)
        session.flush()
        for h in range(1, HAMLETS + 1):
            session.add(_hamlet(levels, commune, h, rng))
        out.append(commune)
    session.flush()
    return out


def _hamlet(levels: dict[str, Any], commune: AdminUnit, h: int, rng: random.Random,
            **ended: Any) -> AdminUnit:
    """Hamlet ``h`` of a commune, with households (its measure of size) and people;
    ``ended``: its end date and successor, for a hamlet of the old map."""
    households = rng.randint(150, 700)
    return AdminUnit(code=f"{commune.code}{h:02d}", name=f"Thôn {h}",
                     level_id=levels["hamlet"].id, parent_id=commune.id,
                     households=households, population=int(households * 3.6), **ended)


def _old_map(session: Session, levels: dict[str, Any], rng: random.Random,
             shifts: dict[str, float]) -> None:
    """The 29 provinces merged away on 1 July 2025, each with two communes of two hamlets,
    all ended on :data:`LAST_DAY`, each naming the unit that took it over (a commune and
    its hamlets of the province that took the province over): the crosswalk that puts an
    old round on today's map."""
    by_code = {u.code: u for u in session.exec(select(AdminUnit).where(
        AdminUnit.level_id.in_([levels["province"].id, levels["commune"].id,  # type: ignore[attr-defined]
                                levels["hamlet"].id])))}
    taken: dict[str, int] = {}  # communes of each province already given an old one
    for code, name, new in MERGED_2025:
        shifts[code] = rng.gauss(0, 0.25)
        province = AdminUnit(code=code, name=name, level_id=levels["province"].id,
                             valid_to=LAST_DAY, successor_id=by_code[new].id)
        session.add(province)
        session.flush()
        for c in range(1, 3):
            taken[new] = taken.get(new, 2) + 1  # a rural commune: Xã Số 3, 4, …
            heir = f"{new}{(taken[new] - 1) % COMMUNES + 1:03d}"
            commune = AdminUnit(code=f"{code}{c:03d}", name=f"Xã Cũ Số {c}",
                                level_id=levels["commune"].id, parent_id=province.id,
                                urban_rural="rural", valid_to=LAST_DAY,
                                successor_id=by_code[heir].id)
            session.add(commune)
            session.flush()
            for h in range(1, 3):
                session.add(_hamlet(levels, commune, h, rng, valid_to=LAST_DAY,
                                    successor_id=by_code[f"{heir}{h:02d}"].id))
    session.flush()


def _round(session: Session, rng: random.Random, version: Any, form: Any,
           keyers: dict[str, User], shifts: dict[str, float], code: str, name: str,
           strata_level: str, on: date | None, start: datetime) -> int:
    """A ministry's national round: the 2025 one with every province's communes as strata
    (provinces are unions of strata, so their estimates are independent and can be
    ranked), the 2024 one on the old map of ``on`` with the 63 provinces as strata; drawn
    by the app's own PPS draw, with verified questionnaires keyed by each province's
    staff."""
    from survey.services.sample.draw import draw_sample

    round_ = create_round(session, code, name, start.year)
    draw_sample(session, round_.code, strata_level=strata_level, hamlets_per_stratum=DRAWN,
                per_hamlet=QUESTIONNAIRES + 4, seed=rng.randrange(10**9), on=on)
    rows = session.exec(select(SampleUnit, Stratum, AdminUnit)
                        .join(Stratum, Stratum.id == SampleUnit.stratum_id)  # type: ignore[arg-type]
                        .join(AdminUnit, AdminUnit.id == SampleUnit.unit_id)  # type: ignore[arg-type]
                        .where(SampleUnit.round_id == round_.id)
                        .order_by(SampleUnit.psu_code)).all()
    keyed = 0
    for psu, stratum, unit in rows:
        province = stratum.code[:2]  # a commune's code starts with its province's
        psu.listed_persons = int((unit.population or 0) * 0.7)
        session.add(psu)
        p2 = (QUESTIONNAIRES + 4) / psu.listed_persons
        for serial in range(1, QUESTIONNAIRES + 1):
            answers = _household_answers(form, rng, "completed")
            for code, value in list(answers.items()):  # the province's own level
                if isinstance(value, int) and 1 <= value <= 5 and code.startswith("c"):
                    answers[code] = max(1, min(5, round(value + shifts[province]
                                                        + rng.gauss(0, 0.3))))
            store_response(
                session, instrument_version=version, client_uuid=uuid.UUID(
                    int=rng.getrandbits(128)), mode="paper", answers=answers,
                status="verified", outcome="completed", round_id=round_.id, unit_id=unit.id,
                sample_unit_id=psu.id, stratum=stratum.code, psu=psu.psu_code,
                prob_stage1=psu.prob_stage1, prob_stage2=p2,
                weight=1 / (psu.prob_stage1 * p2),
                questionnaire_id=make_questionnaire_id(round_.id, psu.psu_code, serial),  # type: ignore[arg-type]
                enumerator_id=keyers[province].id,
                created_at=start + timedelta(minutes=serial * 7))
            keyed += 1
    return keyed


def _evaluations(session: Session, rng: random.Random, version_id: int, form: Any,
                 desks: list[tuple[Desk, float]], total: int) -> int:
    """``total`` QR evaluations over the desks (bigger centres more), in 2026-Q1, in bulk."""
    scale = [i for i in form.items if i.type == "scale"]
    others = [i for i in form.items if i.type == "select_one" and not i.relevant]
    weights = [8 if d.admin_level == "province" else 1 for d, _s in desks]
    start = datetime(2026, 1, 1, 1, tzinfo=UTC)
    span = (datetime(2026, 3, 31, 15, tzinfo=UTC) - start).total_seconds()
    done = 0
    while done < total:
        batch = min(CHUNK, total - done)
        heads, bodies = [], []
        for _ in range(batch):
            desk, shift = rng.choices(desks, weights=weights)[0]
            answers: dict[str, Any] = {i.code: _satisfaction(rng, i.code, shift, 0.0)
                                       for i in scale}
            for item in others:
                answers[item.code] = rng.choice(list(item.choice_codes))
            heads.append({"client_uuid": uuid.UUID(int=rng.getrandbits(128)),
                          "content_hash": content_hash(answers, {"mode": "qr",
                                                                 "iv": version_id}),
                          "instrument_version_id": version_id, "mode": "qr",
                          "status": "received", "desk_id": desk.id,
                          "created_at": start + timedelta(seconds=rng.random() * span),
                          "updated_at": start})
            bodies.append(answers)
        ids = session.execute(insert(Response).returning(
            Response.id, sort_by_parameter_order=True), heads).scalars().all()
        session.execute(insert(Answer), [{"response_id": rid, **row}
                         for rid, answers in zip(ids, bodies, strict=True)
                         for row in answer_values(answers)])
        done += batch
    return done
