"""One's own API tokens: make one (shown once), see when each was last used, revoke it.

The administrator sees and may revoke everyone's. Any change is audited in the service.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import IntegerField, StringField
from wtforms.validators import Length, NumberRange, Optional

from survey.app import get_session, localise
from survey.models import User
from survey.security import area_scoped, roles_required
from survey.services.api.tokens import (
    API_ROLES,
    MAX_DAYS,
    create_token,
    revoke_token,
    token_state,
    user_tokens,
)

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")


class TokenForm(FlaskForm):
    name = StringField("name", validators=[Length(max=100)])
    days = IntegerField("days", default=90, validators=[Optional(), NumberRange(1, MAX_DAYS)])


class RevokeForm(FlaskForm):
    pass


def _page(form: TokenForm, error: str | None = None, secret: str | None = None,
          status: int = 200) -> tuple[str, int]:
    me = get_session().get(User, int(current_user.id))
    assert me is not None
    everyone = me.role == "admin" and me.scope_unit_id is None  # an area's admin: their own
    rows = user_tokens(get_session(), None if everyone else me.id)
    return render_template("auth/tokens.html", form=form, revoke=RevokeForm(), error=error,
                           secret=secret, rows=[(t, owner, token_state(t)) for t, owner in rows],
                           everyone=everyone, max_days=MAX_DAYS), status


@bp.route("/", methods=["GET", "POST"])
@roles_required(*API_ROLES)
@area_scoped
def index() -> tuple[str, int]:
    """The list, and the form to make a token (its secret shown on this answer only)."""
    form = TokenForm()
    if not form.is_submitted():
        return _page(form)
    if not form.validate():
        return _page(form, _("The lifetime must be a whole number of days from 1 to "
                             "%(most)s.", most=MAX_DAYS), status=422)
    db = get_session()
    me = db.get(User, int(current_user.id))
    assert me is not None
    try:
        made = create_token(db, me, form.name.data or "", form.days.data)
    except ValueError as exc:
        db.rollback()
        return _page(form, localise(exc), status=422)
    db.commit()
    return _page(TokenForm(formdata=None), secret=made.secret)


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@roles_required(*API_ROLES)
@area_scoped
def revoke(token_id: int) -> WerkzeugResponse | tuple[str, int]:
    form = RevokeForm()
    if not form.validate_on_submit():
        return _page(TokenForm(formdata=None), _("The form expired; please try again."), 400)
    db = get_session()
    me = db.get(User, int(current_user.id))
    assert me is not None
    try:
        token = revoke_token(db, token_id, me)
    except ValueError as exc:
        db.rollback()
        return _page(TokenForm(formdata=None), localise(exc), status=404)
    db.commit()
    flash(_("The token “%(name)s” has been revoked: it no longer works.", name=token.name),
          "info")
    return redirect(url_for("tokens.index"))
