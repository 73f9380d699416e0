"""``sipas user add|list|disable|enable``."""

from __future__ import annotations

import sys

import click

from survey.commands import app_session, clear_errors
from survey.models import Role

ROLE_CHOICE = click.Choice([r.value for r in Role])


@click.group("user")
def user_group() -> None:
    """Manage user accounts."""


@user_group.command("add")
@click.option("--username", required=True)
@click.option("--role", required=True, type=ROLE_CHOICE)
@click.option("--name", "full_name", default="", help="Full name, e.g. Nguyễn Văn An.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--area", default="", help="Code of the administrative unit (province, district, "
              "commune) whose data the account may see; default: the whole deployment.")
@clear_errors
def user_add(username: str, role: str, full_name: str, password_stdin: bool, area: str) -> None:
    """Add a user; the password is prompted for (or read from stdin), never an argument."""
    from survey.services.scope import EVERYTHING, area_for
    from survey.services.users import create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password / Mật khẩu", hide_input=True, confirmation_prompt=True)
    with app_session() as (_app, session):
        unit_id = area_for(session, EVERYTHING, area)
        user = create_user(session, username, role, password, full_name, scope_unit_id=unit_id)
        click.echo(f"added {user.username} ({user.role}{', ' + area.strip() if area else ''})")


@user_group.command("list")
@clear_errors
def user_list() -> None:
    """List accounts with their roles, state and area ('*' for the whole deployment)."""
    from survey.services.scope import of_user
    from survey.services.users import list_users

    with app_session() as (_app, session):
        for user in list_users(session):
            state = "active" if user.active else "disabled"
            area = of_user(session, user).code or "*"
            click.echo(f"{user.username:<20} {user.role:<11} {state:<8} {area:<12} "
                       f"{user.full_name}")


def _set_active(username: str, active: bool) -> None:
    from survey.services.audit import record
    from survey.services.users import set_active

    with app_session() as (_app, session):
        user = set_active(session, username, active)
        record(session, "user.enable" if active else "user.disable", "user", user.id)
        click.echo(f"{user.username}: {'enabled' if active else 'disabled'}")


@user_group.command("role")
@click.argument("username")
@click.argument("role")
@clear_errors
def user_role(username: str, role: str) -> None:
    """Give an account another role (its open sessions end)."""
    from survey.services.audit import record
    from survey.services.users import find_user, set_role

    with app_session() as (_app, session):
        user = find_user(session, username)
        if user is None:
            raise ValueError(f"no user {username!r}")
        old = set_role(session, user, role)
        record(session, "user.role", "user", user.id,
               detail={"username": user.username, "old": old, "new": role})
    click.echo(f"{username}: {old} → {role}")


@user_group.command("area")
@click.argument("username")
@click.argument("unit", required=False, default="")
@clear_errors
def user_area(username: str, unit: str) -> None:
    """Limit an account to an administrative unit and everything below it (no UNIT: the
    whole deployment again). Its open sessions end; audited."""
    from survey.services.audit import record
    from survey.services.scope import EVERYTHING, set_scope
    from survey.services.users import find_user

    with app_session() as (_app, session):
        user = find_user(session, username)
        if user is None:
            raise ValueError(f"no user {username!r}")
        old, new = set_scope(session, EVERYTHING, user, unit)
        record(session, "user.area", "user", user.id,
               detail={"username": user.username, "old": old, "new": new})
    click.echo(f"{username}: {old or '*'} → {new or '*'}")


@user_group.command("disable")
@click.argument("username")
@clear_errors
def user_disable(username: str) -> None:
    """Disable an account (it can no longer log in; its work is kept)."""
    _set_active(username, False)


@user_group.command("enable")
@click.argument("username")
@clear_errors
def user_enable(username: str) -> None:
    """Enable a disabled account again."""
    _set_active(username, True)


@user_group.command("password")
@click.argument("username")
@click.option("--one-time", is_flag=True,
              help="Generate a one-time password (printed once) that must be changed at login.")
@click.option("--password-stdin", is_flag=True, help="Read the new password from stdin.")
@clear_errors
def user_password(username: str, one_time: bool, password_stdin: bool) -> None:
    """Set a user's password; every session of the user is signed out (audited)."""
    from survey.services.audit import record
    from survey.services.users import find_user, reset_password, set_password

    if one_time and password_stdin:
        raise ValueError("give either --one-time or --password-stdin, not both")
    with app_session() as (_app, session):
        user = find_user(session, username)
        if user is None:
            raise ValueError(f"no user {username!r}")
        if one_time:
            password = reset_password(session, user)
        else:
            password = (sys.stdin.readline().rstrip("\r\n") if password_stdin else click.prompt(
                "New password / Mật khẩu mới", hide_input=True, confirmation_prompt=True))
            set_password(session, user, password)
        record(session, "password_reset", "user", user.id, detail={"username": user.username})
    if one_time:
        click.echo(f"one-time password for {user.username} (shown once; to be changed at "
                   f"login): {password}")
    else:
        click.echo(f"password of {user.username} changed; its sessions were signed out")
