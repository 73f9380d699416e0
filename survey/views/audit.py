"""The audit screen: who did what, when, to which response — filtered, searched and paged."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template, request
from sqlmodel import col, select

from survey.app import get_session
from survey.models import User
from survey.security import ADMIN, SUPERVISOR, area_scoped, roles_required
from survey.services.audit import audit_actions, audit_query
from survey.services.paging import clamp, paginate
from survey.services.scope import within
from survey.typed import whole_number
from survey.views.area import current_scope
from survey.views.audit_names import action_name

bp = Blueprint("audit", __name__, url_prefix="/audit")


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, "").strip()[:10])
    except ValueError:
        return None


def _utc(day: date) -> datetime:
    """Midnight of ``day`` on the province's clock, as the UTC instant the log stores."""
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Ho_Chi_Minh"))
    return datetime.combine(day, time(), zone).astimezone(ZoneInfo("UTC"))


@bp.route("/")
@roles_required(SUPERVISOR, ADMIN)
@area_scoped
def index() -> str:
    """The log; an area's supervisor sees what its own accounts did."""
    db = get_session()
    scope = current_scope()
    users = db.exec(select(User).where(within(scope, User.scope_unit_id))
                    .order_by(col(User.username))).all()
    who = next((u for u in users if u.username == request.args.get("who")), None)
    actions = audit_actions(db)
    what = request.args.get("what") if request.args.get("what") in actions else None
    since, until = _day("from"), _day("to")
    response = request.args.get("response", "").strip()
    response_id = response if whole_number(response) is not None else None
    query = audit_query(user_id=who.id if who else None, action=what,
                        since=_utc(since) if since else None,
                        until=_utc(until + timedelta(days=1)) if until else None,
                        entity="response" if response_id else None, entity_id=response_id,
                        scope=scope)
    number, size = clamp(request.args.get("page"), request.args.get("size"))
    page = paginate(db, query, number, size)
    return render_template("audit/index.html", page=page, users=users, who=who,
                           actions=[(a, action_name(a)) for a in actions], what=what,
                           since=since, until=until, response=response_id or "")
