"""Login, logout and one's own password.

A login opens a server-side session (survey/services/staff_sessions.py) whose token rides in
the signed cookie; logout closes it, so a copied cookie is worthless afterwards. An account
whose password was reset must choose a new one before any other page opens.
"""

from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from survey.app import get_session, login_manager
from survey.models import User
from survey.security import logged_in, public
from survey.services.audit import record
from survey.services.staff_sessions import open_session, revoke_session, session_user
from survey.services.users import (
    MIN_PASSWORD_LENGTH,
    WrongPassword,
    authenticate,
    change_own_password,
    clear_login_failures,
    login_blocked_for,
    note_login_failure,
)
from survey.typed import whole_number

bp = Blueprint("auth", __name__, url_prefix="/auth")


class SessionUser(UserMixin):
    """What Flask-Login keeps: id, username and role, read fresh from the database."""

    def __init__(self, user: User) -> None:
        self.id = str(user.id)
        self.username = user.username
        self.role = user.role
        self.full_name = user.full_name
        self.must_change_password = user.must_change_password
        self.scope_unit_id = user.scope_unit_id  # its area (services/scope.py); None: all


@login_manager.user_loader
def load_user(user_id: str) -> SessionUser | None:
    """The user of an open session only: revoked, unknown or disabled is anonymous."""
    number = whole_number(user_id)
    if number is None:
        return None
    user = session_user(get_session(), number, session.get("sid"))
    return SessionUser(user) if user is not None else None


ALLOWED_BEFORE_CHANGE = {"auth.change_password", "auth.logout", "static"}


@bp.before_app_request
def _password_first() -> WerkzeugResponse | None:
    """After a reset, the one-time password must be replaced before anything else."""
    if (current_user.is_authenticated and current_user.must_change_password
            and request.endpoint not in ALLOWED_BEFORE_CHANGE):
        return redirect(url_for("auth.change_password"))
    return None


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])


# Where each role's daily work is: straight there after login, unless a page was asked for.
LANDING = {"enumerator": "entry.start", "supervisor": "entry.review",
           "analyst": "reports.dashboard", "admin": "main.home"}


def _landing(role: str) -> str:
    return url_for(LANDING.get(role, "main.home"))


def _safe_next(target: str | None, role: str = "") -> str:
    """A path on this site only: browsers read "//host" and "/\\host" as another site."""
    if (target and target.startswith("/") and not target.startswith(("//", "/\\"))
            and "\\" not in target and target.isprintable() and not urlparse(target).netloc):
        return target
    return _landing(role)


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
            token = open_session(db, user)
            db.commit()
            session.clear()  # fresh session on login: no fixation
            session["sid"] = token
            login_user(SessionUser(user))
            return redirect(_safe_next(request.args.get("next"), user.role))
        note_login_failure(db, username, address)
        db.commit()
        flash(_("Wrong username or password."), "error")
    elif request.method == "POST" and not form.errors.get("csrf_token"):
        flash(_("Type your username and your password."), "error")
    return render_template("auth/login.html", form=form), (422 if form.errors else 200)


@bp.route("/logout", methods=["POST"])
@logged_in
def logout() -> WerkzeugResponse:
    db = get_session()
    revoke_session(db, session.get("sid"))
    db.commit()
    logout_user()
    session.clear()
    return redirect(url_for("main.home"))


class PasswordForm(FlaskForm):
    current = PasswordField("current", validators=[DataRequired(), Length(max=256)])
    new = PasswordField("new", validators=[DataRequired(), Length(max=256)])
    again = PasswordField("again", validators=[DataRequired(), Length(max=256)])


@bp.route("/password", methods=["GET", "POST"])
@logged_in
def change_password() -> str | WerkzeugResponse | tuple[str, int]:
    """Change one's own password (the current one first); other sessions are closed."""
    form = PasswordForm()
    error = None
    if form.validate_on_submit():
        db = get_session()
        user = db.get(User, int(current_user.id))
        assert user is not None
        if form.new.data != form.again.data:
            error = _("The two new passwords are not the same.")
        else:
            try:
                change_own_password(db, user, form.current.data or "", form.new.data or "",
                                    keep_session=session.get("sid"))
            except WrongPassword:
                error = _("The current password is wrong.")
            except ValueError:
                error = _("The new password must have at least %(n)d characters and differ "
                          "from the current one.", n=MIN_PASSWORD_LENGTH)
            else:
                record(db, "password_change", "user", user.id, user_id=user.id)
                db.commit()
                flash(_("Your password has been changed. Other sessions were signed out."),
                      "info")
                return redirect(url_for("main.home"))
        db.rollback()
    elif form.is_submitted():
        error = _("Fill in all three boxes.")
    return render_template("auth/password.html", form=form, error=error,
                           forced=current_user.must_change_password), (422 if error else 200)
