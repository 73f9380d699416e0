"""The REST API's kiosk operation (issue 17): the queue system invites the next citizen to
rate on the counter's tablet. See api.py for the API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import marshmallow as ma
from flask_babel import gettext
from flask_smorest.error_handler import ErrorSchema

from survey.app import get_session, localise
from survey.messages import UserError
from survey.security import area_scoped
from survey.services.scope import contains_unit
from survey.views.api import bp, error_body, operation, text, writers_only
from survey.views.area import current_scope
from survey.views.kiosk import setting


class TicketAskSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    ticket = text(40, load_default="", metadata={
        "description": "The queue system's ticket number (optional)."})
    dossier = text(64, load_default="", metadata={
        "description": "The code of the dossier the counter has just returned (optional): "
                       "the evaluation is tied to it, kept as its keyed hash only."})


class TicketSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    device = ma.fields.Integer(required=True)
    ticket = ma.fields.String(required=True)
    opened_at = ma.fields.String(required=True)


@bp.route("/kiosk/<int:device>/ticket", methods=["POST"])
@operation
@area_scoped
@writers_only
@bp.arguments(TicketAskSchema, location="json")
@bp.response(201, TicketSchema)
@bp.alt_response(200, schema=TicketSchema, description="The same ticket number sent again "
                 "while it waits: the same ticket.")
@bp.alt_response(404, schema=ErrorSchema, description="No such tablet.")
@bp.alt_response(410, schema=ErrorSchema, description="The tablet was revoked.")
@bp.alt_response(409, schema=ErrorSchema, description="The dossier has been evaluated already.")
def open_kiosk_ticket(body: dict[str, Any], device: int) -> Any:
    """The tablet shows its rating screen for this ticket (the counter closed it): within
    ``KIOSK_RESET_SECONDS`` (30) the tablet takes it up; the evaluation is tied to it. Not
    audited (a counter opens hundreds a day): the ticket row is the record."""
    from survey.models import Desk, as_utc
    from survey.models_kiosk import KioskDevice
    from survey.services.kiosk.devices import open_ticket

    session = get_session()
    found = session.get(KioskDevice, device)
    desk = session.get(Desk, found.desk_id) if found is not None else None
    if found is None or desk is None or not contains_unit(session, current_scope(),
                                                          desk.unit_id):
        return error_body(404, gettext("Unknown tablet."))  # another area's is none
    if found.revoked_at is not None or not desk.active:
        # a disabled desk's tablet shows that it is stopped: no one would take the ticket up
        return error_body(410, gettext("This tablet has been revoked: ask the supervisor."))
    try:
        hashed = _dossier_hash(session, body["dossier"])
        ticket, new = open_ticket(session, found, body["ticket"], timedelta(
            seconds=setting("KIOSK_RESET_SECONDS")), "api", hashed)
    except DossierTaken as exc:
        return error_body(409, localise(exc))
    except UserError as exc:
        return error_body(422, localise(exc))
    session.commit()
    return {"id": ticket.id, "device": found.id, "ticket": ticket.ref,
            "opened_at": as_utc(ticket.opened_at).isoformat()}, 201 if new else 200


class DossierTaken(UserError):
    """The dossier named with a ticket already has a counted evaluation."""


def _dossier_hash(session: Any, code: str) -> str | None:
    """The keyed hash of the ticket's dossier code (the code itself is never kept), after
    the checks a citizen's typed code gets: its pattern, and evaluated once only."""
    import re

    from flask import current_app

    from survey.messages import N_
    from survey.services.desks.links import dossier_secret
    from survey.services.dossiers.links import evaluated
    from survey.services.responses import dossier_hash

    code = code.strip().upper()
    if not code:
        return None
    if not re.fullmatch(current_app.config["DOSSIER_CODE_PATTERN"], code):
        raise UserError(N_("The dossier code does not match the receipt's format."))
    hashed = dossier_hash(dossier_secret(current_app.config["SECRET_KEY"]), code)
    if evaluated(session, hashed):
        raise DossierTaken(N_("This dossier has already been evaluated."))
    return hashed
