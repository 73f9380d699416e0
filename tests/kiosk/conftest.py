"""Kiosk fixtures: a desk with a published form and a registered counter tablet."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from survey.services.kiosk.devices import kiosk_path, register
from tests import factories

# What a citizen taps on the tablet (values as the tablet sends them: numbers, lists).
ANSWERS = {"service_field": 3, "overall": 5, "on_time": 1, "staff_attitude": 4,
           "visits": 1, "posted_procedures": 9, "feedback_handling": 5,
           "comment": "Nhanh, gọn"}


@pytest.fixture(autouse=True)
def _no_shared_limiter_storage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)


@dataclass
class Tablet:
    id: int
    key: str
    desk_code: str
    desk_id: int

    @property
    def path(self) -> str:
        return kiosk_path(self.key)


@pytest.fixture
def tablet(app: Flask) -> Tablet:
    with Session(app.extensions["sipas_engine"]) as session:
        factories.published(session, "desk_evaluation")
        desk = factories.desk(session, name="Bộ phận Một cửa xã Phú Lâm", agency="UBND xã")
        session.flush()
        made = register(session, desk, "Quầy 1", None)
        session.commit()
        return Tablet(int(made.device.id), made.key, desk.code, int(desk.id))  # type: ignore[arg-type]


def evaluation(answers: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """One evaluation as kiosk.js sends it."""
    return {"uuid": str(uuid.uuid4()), "answers": dict(ANSWERS if answers is None else answers),
            "answered_at": datetime.now(UTC).isoformat(), "ticket": None, **extra}


def send(client: FlaskClient, tablet: Tablet, body: Any) -> Any:
    return client.post(tablet.path + "/evaluations", json=body)


def open_dossier_ticket(app: Flask, tablet: Tablet, ref: str, returned_late: bool) -> int:
    """A stored dossier (civil status, due on the 5th) returned on time or late, and a
    queue system's ticket naming it; the ticket's id."""
    from datetime import UTC, datetime, timedelta

    from survey.models_kiosk import KioskDevice
    from survey.services.desks.links import dossier_secret
    from survey.services.dossiers.records import DossierRow, store_dossiers
    from survey.services.kiosk.devices import open_ticket
    from survey.services.responses import dossier_hash

    key = dossier_secret(app.config["SECRET_KEY"])
    due = datetime(2026, 11, 5, 10, tzinfo=UTC)
    with Session(app.extensions["sipas_engine"]) as session:
        store_dossiers(session, [DossierRow(
            f"D-{ref}", "1.001612", "Đăng ký khai sinh", "Hộ tịch", "UBND xã", tablet.desk_id,
            due - timedelta(days=3), due, due + timedelta(days=2 if returned_late else -1),
            "")], key, "import")
        made, _new = open_ticket(session, session.get(KioskDevice, tablet.id), ref,
                                 timedelta(seconds=30), "api", dossier_hash(key, f"D-{ref}"))
        session.commit()
        return int(made.id)  # type: ignore[arg-type]
