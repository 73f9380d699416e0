"""Whose data an account may see: an administrative unit and everything below it.

A national deployment has the ministry's accounts (no area: every province) and each
province's (its province, or a district or commune below it). The area is a subtree of the
geography, so one recursive query answers "is this desk, this questionnaire, this account
inside?" on SQLite and PostgreSQL alike, and every list is filtered in SQL rather than
after reading everything. An object outside the area is treated as if it did not exist (a
404, not a 403), so an account cannot even learn which codes another province uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import CTE, ColumnElement, and_, func, literal, not_, or_, true
from sqlmodel import Session, select

from survey.messages import N_, UserError
from survey.models import AdminUnit, Desk, GeoLevel, User


@dataclass(frozen=True)
class Scope:
    """An account's area; ``unit_id`` None is the whole deployment."""

    unit_id: int | None = None
    code: str = ""
    name: str = ""
    level: str = ""

    @property
    def everything(self) -> bool:
        return self.unit_id is None


EVERYTHING = Scope()

# A unit taken over by a reform (ended, with a successor) lies below its successor on
# today's map, no longer below its parent (see survey.services.geography): today's Tuyên
# Quang holds the old Hà Giang's hamlets and their questionnaires. One condition per edge,
# each served by its own index; UNION, so that bad data with a cycle still ends.
_TAKEN_OVER = ("{u}.successor_id IS NOT NULL AND {u}.valid_to IS NOT NULL "
               "AND {u}.valid_to < CURRENT_DATE")  # never NULL: NOT () must be true or false
_EDGE = (f"({{u}}.parent_id = {{a}}.id AND NOT ({_TAKEN_OVER})) OR "
         f"({{u}}.successor_id = {{a}}.id AND {_TAKEN_OVER})")
# The same subtree for hand-written SQL (exports, coverage), bound as ``:area``: both
# databases take a recursive CTE in a subquery.
SUBTREE_SQL = ("(WITH RECURSIVE area_units(id) AS (SELECT CAST(:area AS INTEGER) UNION "
               "SELECT u.id FROM admin_unit u JOIN area_units a ON "
               + _EDGE.format(u="u", a="a") + ") SELECT id FROM area_units)")


def subtree(unit_id: int) -> CTE:
    """The unit and every unit below it on today's map, as a recursive CTE of ids (one
    query, any depth)."""
    top = select(AdminUnit.id.label("id")).where(AdminUnit.id == unit_id)  # type: ignore[union-attr]
    tree = top.cte("scope_units", recursive=True, nesting=True)  # two in one query are two
    taken = and_(AdminUnit.successor_id.is_not(None), not_(on_todays_map()))  # type: ignore[union-attr]
    below = select(AdminUnit.id).join(tree, or_(  # type: ignore[call-overload]
        and_(AdminUnit.parent_id == tree.c.id, not_(taken)),
        and_(AdminUnit.successor_id == tree.c.id, taken)))
    return tree.union(below)


def within(scope: Scope, column: Any) -> ColumnElement[bool]:
    """A WHERE clause keeping rows whose unit ``column`` lies in the area (everything: true).

    A row without a unit lies in no province, so only the whole deployment sees it.
    """
    if scope.everything:
        return true()
    assert scope.unit_id is not None
    return column.in_(select(subtree(scope.unit_id).c.id))  # type: ignore[no-any-return]


def desks_within(scope: Scope) -> ColumnElement[bool]:
    """A WHERE clause on ``Desk`` for the desks of the area."""
    return within(scope, Desk.unit_id)


def desk_ids_within(scope: Scope) -> Any:
    """A subquery of the ids of the area's desks (for tables that name a desk by id)."""
    return select(Desk.id).where(desks_within(scope))


def contains_unit(session: Session, scope: Scope, unit_id: int | None) -> bool:
    """Whether the unit (None: no unit) lies in the area."""
    if scope.everything:
        return True
    if unit_id is None:
        return False
    found = session.exec(select(literal(1)).where(  # type: ignore[call-overload]
        within(scope, literal(unit_id)))).first()
    return found is not None


def of_user(session: Session, user: Any) -> Scope:
    """The area of an account (any object with ``scope_unit_id``; none: everything)."""
    unit_id = getattr(user, "scope_unit_id", None)
    if unit_id is None:
        return EVERYTHING
    row = session.exec(select(AdminUnit.code, AdminUnit.name, GeoLevel.code)  # type: ignore[call-overload]
                       .join(GeoLevel, GeoLevel.id == AdminUnit.level_id)
                       .where(AdminUnit.id == unit_id)).first()
    if row is None:  # the foreign key makes this impossible; refuse rather than widen
        raise RuntimeError(f"account area {unit_id} names no unit")
    return Scope(unit_id, row[0], row[1], row[2])


def unit_by_code(session: Session, code: str) -> AdminUnit:
    """The unit with this code, or a :class:`UserError` naming the code."""
    code = code.strip()
    unit = session.exec(select(AdminUnit).where(AdminUnit.code == code)).first()
    if unit is None:
        raise UserError(N_("no administrative unit has the code '%(code)s'"), code=code)
    return unit


def area_for(session: Session, actor: Scope, code: str | None) -> int | None:
    """The unit id an actor may give an account or a desk: ``code`` (None or empty: the
    actor's own area), refused with the actor's area named if it lies outside it."""
    if not code or not code.strip():
        return actor.unit_id
    unit = unit_by_code(session, code)
    if not contains_unit(session, actor, unit.id):
        raise UserError(N_("%(code)s is outside your area (%(area)s)"), code=unit.code,
                        area=actor.name)
    return unit.id


def set_scope(session: Session, actor: Scope, user: User, code: str | None) -> tuple[str, str]:
    """Give an account another area (``code`` None or empty: the actor's own, which for the
    ministry is everything). Its sessions end, as for a role change: what it may see changes
    at its next login. Returns (old, new) area codes ('' for everything); the caller audits."""
    from survey.services.staff_sessions import revoke_user_sessions

    old = of_user(session, user)
    if not contains_unit(session, actor, user.scope_unit_id) and not actor.everything:
        raise UserError(N_("this account is outside your area"))
    new_id = area_for(session, actor, code)
    if new_id != user.scope_unit_id:
        user.scope_unit_id = new_id
        session.add(user)
        assert user.id is not None
        revoke_user_sessions(session, user.id)
        session.flush()
    return old.code, of_user(session, user).code


def on_todays_map() -> ColumnElement[bool]:
    """A WHERE clause keeping the units that exist today (no end date, or one still to
    come): what a picker offers, never a province or district a reform has ended."""
    return or_(AdminUnit.valid_to.is_(None),  # type: ignore[union-attr]
               AdminUnit.valid_to >= func.current_date())  # type: ignore[operator]


def units_in_scope(session: Session, scope: Scope, limit: int = 5000) -> list[tuple[str, str, str]]:
    """(code, name, level) of the area's units above hamlets that exist today, for a picker
    of areas (an account's, a desk's)."""
    query = (select(AdminUnit.code, AdminUnit.name, GeoLevel.code)  # type: ignore[call-overload]
             .join(GeoLevel, GeoLevel.id == AdminUnit.level_id)
             .where(within(scope, AdminUnit.id), GeoLevel.code != "hamlet", on_todays_map())
             .order_by(GeoLevel.depth, AdminUnit.code).limit(limit))
    return [tuple(r) for r in session.exec(query).all()]


def responses_within(scope: Scope) -> ColumnElement[bool]:
    """A WHERE clause on ``Response``: questionnaires of the area's units and evaluations
    at the area's desks."""
    from sqlalchemy import or_

    from survey.models import Response

    if scope.everything:
        return true()
    return or_(within(scope, Response.unit_id),
               Response.desk_id.in_(desk_ids_within(scope)))  # type: ignore[union-attr]


def cases_within(scope: Scope) -> ColumnElement[bool]:
    """A WHERE clause on ``EntryCase`` (paper to key): the area's sampled hamlets' and its
    desks' slips."""
    from sqlalchemy import or_

    from survey.models import SampleUnit
    from survey.models_entry import EntryCase

    if scope.everything:
        return true()
    hamlets = select(SampleUnit.id).where(within(scope, SampleUnit.unit_id))
    return or_(EntryCase.sample_unit_id.in_(hamlets),  # type: ignore[union-attr]
               EntryCase.desk_id.in_(desk_ids_within(scope)))  # type: ignore[union-attr]


def holds(session: Session, scope: Scope, model: Any, row_id: int | None) -> bool:
    """Whether the row ``row_id`` of ``Response`` or ``EntryCase`` lies in the area."""
    from survey.models import Response

    if scope.everything:
        return True
    if row_id is None:
        return False
    clause = responses_within(scope) if model is Response else cases_within(scope)
    return session.exec(select(model.id).where(model.id == row_id, clause)).first() is not None
