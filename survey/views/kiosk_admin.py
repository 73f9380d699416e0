"""A desk's counter tablets on the desk's page: register one (its address shown once, with
a QR code to open it on the tablet) and revoke one. Routes of the desks blueprint."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.app import get_session
from survey.messages import UserError
from survey.models_kiosk import KioskDevice
from survey.security import STAFF, area_scoped, roles_required
from survey.services.kiosk.devices import kiosk_path, register, revoke
from survey.views.confirm import confirm_page, confirmed
from survey.views.desks import ActionForm, _desk_or_404, _user_id, bp, detail_page

KEY_SHOWN = "kiosk"  # the flash category of a new tablet's address (shown once, not as text)


@bp.route("/<code>/kiosks", methods=["POST"])
@roles_required(*STAFF)
@area_scoped
def kiosk_add(code: str) -> WerkzeugResponse | tuple[str, int]:
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_session()
    desk = _desk_or_404(code, lock=True)
    try:
        made = register(db, desk, request.form.get("name", ""), _user_id())
    except UserError as exc:
        db.rollback()
        return detail_page(desk, kiosk_name=request.form.get("name", "")[:200],
                           kiosk_problem=exc.localised(_)), 400
    db.commit()
    flash(current_app.config["BASE_URL"].rstrip("/") + kiosk_path(made.key), KEY_SHOWN)
    return redirect(url_for("desks.detail", code=code) + "#kiosks", code=303)


@bp.route("/<code>/kiosks/<int:device_id>/revoke", methods=["POST"])
@roles_required(*STAFF)
@area_scoped
def kiosk_revoke(code: str, device_id: int) -> WerkzeugResponse | str:
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_session()
    desk = _desk_or_404(code)
    device = db.get(KioskDevice, device_id)
    if device is None or device.desk_id != desk.id:
        abort(404)
    back = url_for("desks.detail", code=code) + "#kiosks"
    if device.revoked_at is not None:
        return redirect(back, code=303)
    if not confirmed():
        return confirm_page(
            _("Revoke the tablet %(name)s?", name=device.name),
            _("Its address stops working at once: the tablet shows that it was revoked. "
              "Evaluations it has not sent yet stay on the tablet and are not stored."),
            _("Revoke"), back)
    revoke(db, device_id, _user_id())
    db.commit()
    flash(_("Tablet %(name)s revoked.", name=device.name), "info")
    return redirect(back, code=303)
