"""Login and logout."""

from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import UserMixin, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from survey.app import get_session, login_manager
from survey.models import User
from survey.security import logged_in, public
from survey.services.users import (
    authenticate,
    clear_login_failures,
    login_blocked_for,
    note_login_failure,
)

bp = Blueprint("auth", __name__, url_prefix="/auth")


class SessionUser(UserMixin):
    """What Flask-Login keeps: id, username and role, read fresh from the database."""

    def __init__(self, user: User) -> None:
        self.id = str(user.id)
        self.username = user.username
        self.role = user.role
        self.full_name = user.full_name


@login_manager.user_loader
def load_user(user_id: str) -> SessionUser | None:
    if not user_id.isdigit():
        return None
    user = get_session().get(User, int(user_id))
    if user is None or not user.active:
        return None
    return SessionUser(user)


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])


def _safe_next(target: str | None) -> str:
    if target and not urlparse(target).netloc and target.startswith("/"):
        return target
    return url_for("main.home")


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> str | WerkzeugResponse | tuple[str, int]:
    form = LoginForm()
    if form.validate_on_submit():
        db = get_session()
        username, address = form.username.data or "", request.remote_addr or "?"
        wait = login_blocked_for(db, username, address)
        if wait is not None:
            minutes = max(1, round(wait.total_seconds() / 60))
            flash(_("Too many failed attempts for this account from this computer. "
                    "Try again in %(minutes)d minutes.", minutes=minutes), "error")
            return render_template("auth/login.html", form=form), 429
        user = authenticate(db, username, form.password.data or "")
        if user is not None:
            clear_login_failures(db, username, address)
            db.commit()
            session.clear()  # fresh session on login: no fixation
            login_user(SessionUser(user))
            return redirect(_safe_next(request.args.get("next")))
        note_login_failure(db, username, address)
        db.commit()
        flash(_("Wrong username or password."), "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@logged_in
def logout() -> WerkzeugResponse:
    logout_user()
    session.clear()
    return redirect(url_for("main.home"))
