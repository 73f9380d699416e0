"""Fixtures of the sample area: a small frame as CSV text, a drawn round with fieldwork."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable

import pytest
from sqlmodel import Session, select

from survey.models import Answer, Response, SampleUnit
from survey.services.sample.draw import draw_sample
from survey.services.sample.frame import import_frame
from tests import factories

HEADER = "code,name,level,parent,households,population,urban_rural,valid_from,valid_to,successor"


def frame_csv(districts: int = 3, communes: int = 2, hamlets: int = 4, seed: int = 1) -> str:
    """A province → district → commune → hamlet frame with varied hamlet sizes."""
    rng = random.Random(seed)
    lines = [HEADER, "90,Tỉnh An Hòa,province,,,,,,,"]
    for d in range(1, districts + 1):
        lines.append(f"90{d:02d},Huyện {d},district,90,,,,,,")
        for c in range(1, communes + 1):
            commune = f"90{d:02d}{c:02d}"
            ur = "urban" if c == 1 else "rural"
            lines.append(f"{commune},Xã Phú Lâm {d}.{c},commune,90{d:02d},,,{ur},,,")
            for h in range(1, hamlets + 1):
                size = rng.randint(80, 700)
                lines.append(f"{commune}{h:02d},Ấp Bàu Sen {d}.{c}.{h},hamlet,{commune},"
                             f"{size},{size * 4},{ur},,,")
    return "\n".join(lines) + "\n"


@pytest.fixture
def drawn(engine) -> Callable[..., str]:  # type: ignore[no-untyped-def]
    """Import a frame, create a round and draw it; returns the round code."""

    def make(per_hamlet: int = 10, k: int = 2, seed: int = 3, **kw: object) -> str:
        with Session(engine) as session:
            import_frame(session, frame_csv(**kw))  # type: ignore[arg-type]
            round_ = factories.survey_round(session, code="2026", year=2026)
            draw_sample(session, round_.code, strata_level="district", hamlets_per_stratum=k,
                        per_hamlet=per_hamlet, seed=seed)
            session.commit()
        return "2026"

    return make


def add_fieldwork(
    session: Session,
    round_code: str,
    outcomes: Callable[[SampleUnit, int], str],
    listed: Callable[[SampleUnit], int] = lambda su: 100,
    answers: Callable[[SampleUnit, int], dict[str, float]] = lambda su, k: {},
    status: str = "verified",
) -> None:
    """One keyed questionnaire per issued ID, with the outcome ``outcomes(psu, serial)``."""
    from survey.services.sample.questionnaire_ids import make_questionnaire_id
    from survey.services.sample.rounds import get_round

    version = factories.published(session)
    round_ = get_round(session, round_code)
    for su in session.exec(select(SampleUnit).where(SampleUnit.round_id == round_.id)):
        su.listed_persons = listed(su)
        session.add(su)
        for serial in range(1, su.sample_size + 1):
            response = Response(
                client_uuid=uuid.uuid4(), content_hash="x" * 64,
                instrument_version_id=version.id, round_id=round_.id, mode="paper",
                status=status, outcome=outcomes(su, serial), unit_id=su.unit_id,
                sample_unit_id=su.id, questionnaire_id=make_questionnaire_id(
                    round_.id, su.psu_code, serial),
            )  # fmt: skip
            session.add(response)
            session.flush()
            for item, value in answers(su, serial).items():
                session.add(Answer(response_id=response.id, item_code=item, value_num=value))
    session.flush()
