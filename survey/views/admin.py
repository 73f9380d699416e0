"""Accounts: list, add, disable or enable, reset a password, sign out everywhere.

The administrator manages every account; a supervisor manages the enumerators (and sees
only them). Every action on an account outside the actor's reach is a 403, whatever the form
says (:func:`survey.services.users.may_manage`).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.app import get_session, localise
from survey.messages import UserError
from survey.models import AdminUnit, User
from survey.security import ADMIN, SUPERVISOR, area_scoped, roles_required
from survey.services.api.tokens import revoke_user_tokens
from survey.services.audit import record
from survey.services.paging import clamp, matches, page_of
from survey.services.scope import area_for, contains_unit, of_user, set_scope, units_in_scope
from survey.services.staff_sessions import revoke_user_sessions
from survey.services.users import (
    MANAGES,
    ROLES,
    create_user,
    list_users,
    lock_user,
    may_manage,
    set_active,
    set_role,
)
from survey.services.users import reset_password as reset_password_of
from survey.views.area import current_scope
from survey.views.confirm import confirm_page, confirmed

bp = Blueprint("admin", __name__, url_prefix="/admin")
MANAGERS = (ADMIN, SUPERVISOR)


def _target(user_id: int) -> User:
    """The account acted on: 404 if there is none, 403 if it is outside the actor's reach.

    Every caller changes it, so it is locked for the request's transaction and read after
    the lock: what the view decides on (its role, whether it is active) is what the previous
    change left, so six managers disabling it at once disable it once.
    """
    user = lock_user(get_session(), user_id)
    if user is None or not contains_unit(get_session(), current_scope(), user.scope_unit_id):
        abort(404)  # another area's account is as if it did not exist
    if not may_manage(current_user.role, user.role):
        abort(403)
    return user


@bp.route("/users", methods=["GET", "POST"])
@roles_required(*MANAGERS)
@area_scoped
def users() -> str | tuple[str, int] | WerkzeugResponse:
    """The account list and the form to add one (the password is typed by the manager)."""
    db = get_session()
    error = None
    roles = MANAGES[current_user.role]
    if request.method == "POST":
        try:
            wanted = request.form.get("role", "")
            if wanted in ROLES and wanted not in roles:  # a role beyond this manager's reach
                abort(403)
            area = area_for(db, current_scope(), request.form.get("unit"))
            user = create_user(db, request.form.get("username", ""), request.form.get("role", ""),
                               request.form.get("password", ""), request.form.get("full_name", ""),
                               scope_unit_id=area)
            record(db, "user_add", "user", user.id, user_id=int(current_user.id),
                   detail={"username": user.username, "role": user.role,
                           "area": of_user(db, user).code})
        except ValueError as exc:
            db.rollback()
            error = localise(exc)
        else:
            db.commit()
            flash(_("Account %(name)s added.", name=user.username), "info")
            return redirect(url_for("admin.users"))
    search = request.args.get("q", "")[:60]
    scope = current_scope()
    shown = [u for u in list_users(db, scope)
             if u.role in roles and matches(search, u.username, u.full_name)]
    number, size = clamp(request.args.get("page"), request.args.get("size"))
    page = page_of(shown, number, size)
    units = units_in_scope(db, scope)
    names = {code: name for code, name, _level in units}
    return render_template("admin/users.html", users=page.items, page=page, roles=roles,
                           search=search, error=error, scope=scope, units=units,
                           areas={u.id: of_user(db, u) for u in page.items},
                           area_names=names), (422 if error else 200)


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@roles_required(*MANAGERS)
@area_scoped
def set_user_active(user_id: int) -> WerkzeugResponse | str:
    """Disable or re-enable an account (never delete: responses and audit rows point to it)."""
    db = get_session()
    user = _target(user_id)
    active = request.form.get("active") == "1"
    if user.id == int(current_user.id) and not active:
        flash(_("You cannot disable your own account."), "error")
        return redirect(url_for("admin.users"))
    if user.active == active:  # done meanwhile (another manager, another tab): no change
        return redirect(url_for("admin.users"))
    if not active and not confirmed():
        return confirm_page(
            _("Disable the account %(name)s?", name=user.username),
            _("The user is signed out everywhere and can no longer log in. Their work is kept; "
              "the account can be enabled again later."),
            _("Disable"), url_for("admin.users"), {"active": "0"})
    set_active(db, user.username, active)
    record(db, "user_enable" if active else "user_disable", "user", user.id,
           user_id=int(current_user.id), detail={"username": user.username})
    db.commit()
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@roles_required(*MANAGERS)
@area_scoped
def reset_password(user_id: int) -> WerkzeugResponse | str:
    """Give the user a new random password, shown once to the manager to pass on."""
    db = get_session()
    user = _target(user_id)
    if not confirmed():
        return confirm_page(
            _("Reset the password of %(name)s?", name=user.username),
            _("Their current password stops working and they are signed out everywhere. You "
              "will see a one-time password once, to pass on."),
            _("Reset password"), url_for("admin.users"))
    password = reset_password_of(db, user)  # one-time: to be changed at the next login
    record(db, "password_reset", "user", user.id, user_id=int(current_user.id),
           detail={"username": user.username})
    db.commit()
    reply = make_response(render_template("admin/password.html", user=user, password=password))
    reply.headers["Cache-Control"] = "no-store"  # the password must not stay in a cache
    return reply


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@roles_required(ADMIN)
@area_scoped
def change_role(user_id: int) -> WerkzeugResponse | str:
    """Another role for an account (administrators only); its sessions end at once."""
    db = get_session()
    user = _target(user_id)
    role = request.form.get("role", "")
    if role not in ROLES:
        abort(400)
    if user.id == int(current_user.id):
        flash(_("You cannot change your own role."), "error")
        return redirect(url_for("admin.users"))
    if role == user.role:
        return redirect(url_for("admin.users"))
    if not confirmed():
        return confirm_page(
            _("Make %(name)s %(role)s?", name=user.username, role=_(role)),
            _("They are signed out everywhere; at their next login they have the new role's "
              "screens and rights, and no others."),
            _("Change the role"), url_for("admin.users"), {"role": role})
    try:
        old = set_role(db, user, role)
    except UserError as exc:
        db.rollback()
        flash(exc.localised(_), "error")
        return redirect(url_for("admin.users"))
    record(db, "user.role", "user", user.id, user_id=int(current_user.id),
           detail={"username": user.username, "old": old, "new": role})
    db.commit()
    flash(_("%(name)s is now %(role)s.", name=user.username, role=_(role)), "info")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/sessions", methods=["POST"])
@roles_required(*MANAGERS)
@area_scoped
def sign_out_everywhere(user_id: int) -> WerkzeugResponse | str:
    """Close every session of the user (a lost phone, a shared computer); audited."""
    db = get_session()
    user = _target(user_id)
    if not confirmed():
        return confirm_page(
            _("Sign %(name)s out everywhere?", name=user.username),
            _("Every open session of this account ends now, on every computer and phone, "
              "and its API tokens stop working: anything not yet saved there is kept as a "
              "draft only on keying screens. The password stays the same."),
            _("Sign out everywhere"), url_for("admin.users"))
    closed = revoke_user_sessions(db, user_id)
    tokens = revoke_user_tokens(db, user_id)
    record(db, "sessions_revoke", "user", user.id, user_id=int(current_user.id),
           detail={"username": user.username, "sessions": closed, "api_tokens": tokens})
    db.commit()
    flash(_("%(name)s has been signed out everywhere (%(n)d sessions, %(t)d API tokens).",
            name=user.username, n=closed, t=tokens), "info")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/area", methods=["POST"])
@roles_required(ADMIN)
@area_scoped
def change_scope(user_id: int) -> WerkzeugResponse | str:
    """Another area for an account (administrators, within their own area); its sessions
    end at once, so what it may see changes at its next login. Audited."""
    db = get_session()
    user = _target(user_id)
    code = request.form.get("unit", "").strip()
    if user.id == int(current_user.id):
        flash(_("You cannot change your own area."), "error")
        return redirect(url_for("admin.users"))
    scope = current_scope()
    try:
        wanted = area_for(db, scope, code)
    except UserError as exc:
        db.rollback()
        flash(exc.localised(_), "error")
        return redirect(url_for("admin.users"))
    if wanted == user.scope_unit_id:
        return redirect(url_for("admin.users"))
    unit = db.get(AdminUnit, wanted) if wanted is not None else None
    shown = f"{unit.name} ({unit.code})" if unit is not None else _("the whole country")
    if not confirmed():
        return confirm_page(
            _("Limit %(name)s to %(area)s?", name=user.username, area=shown),
            _("They are signed out everywhere; at their next login they see and change only "
              "what belongs to that area."),
            _("Change the area"), url_for("admin.users"), {"unit": code})
    old, new = set_scope(db, scope, user, code)
    record(db, "user.area", "user", user.id, user_id=int(current_user.id),
           detail={"username": user.username, "old": old, "new": new})
    db.commit()
    flash(_("%(name)s now sees %(area)s.", name=user.username, area=shown), "info")
    return redirect(url_for("admin.users"))
