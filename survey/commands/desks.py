"""``sipas desk add|list|url|rotate|disable|enable|qr|bursts``: operators script these.

Output is a stable contract: ``desk add`` and ``desk rotate`` print the evaluation URL on
their last line, alone, so a shell script can capture it with ``tail -n1``.
"""

from __future__ import annotations

from pathlib import Path

import click

from survey.commands import app_session, clear_errors


@click.group("desk")
def desk_group() -> None:
    """One-stop desks: add, list, rotate, disable, QR codes and posters."""


def _url(app, desk) -> str:  # type: ignore[no-untyped-def]
    from survey.services.desks.links import desk_url

    return desk_url(app.config["BASE_URL"], app.config["SECRET_KEY"], desk)


@desk_group.command("add")
@click.option("--code", required=True, help="Short unique code, e.g. PL-MC1.")
@click.option("--name", required=True, help="Desk name as printed on the poster.")
@click.option("--agency", default="", help="Agency, e.g. UBND xã Phú Lâm.")
@click.option("--level", "admin_level", default="", help="Administrative level, e.g. commune.")
@click.option("--unit", "unit_code", default=None, help="Administrative unit code (frame).")
@clear_errors
def desk_add(code: str, name: str, agency: str, admin_level: str, unit_code: str | None) -> None:
    """Add a desk and print its evaluation URL (last line)."""
    from survey.services.audit import record
    from survey.services.desks.links import add_desk

    with app_session() as (app, session):
        desk = add_desk(session, code, name, agency, admin_level, unit_code)
        record(session, "desk.add", "desk", desk.id, detail={"code": desk.code})
        click.echo(f"added desk {desk.code}: {desk.name}")
        click.echo(_url(app, desk))


@desk_group.command("list")
@click.option("--urls", is_flag=True, help="Also print each desk's current URL.")
@clear_errors
def desk_list(urls: bool) -> None:
    """Code, state, QR version, evaluations, name and agency of every desk."""
    from survey.services.desks.links import list_desks

    with app_session() as (app, session):
        rows = list_desks(session)
        if not rows:
            click.echo("no desks yet: add one with `sipas desk add --code C --name N`")
            return
        click.echo(f"{'code':<16} {'state':<8} {'QR':<4} {'evals':>7}  name | agency")
        for row in rows:
            desk = row.desk
            state = "active" if desk.active else "disabled"
            click.echo(f"{desk.code:<16} {state:<8} v{desk.token_version:<3} "
                       f"{row.evaluations:>7}  {desk.name} | {desk.agency}")
            if urls:
                click.echo(f"  {_url(app, desk)}")


@desk_group.command("url")
@click.argument("code")
@clear_errors
def desk_url_command(code: str) -> None:
    """Print the desk's current evaluation URL."""
    from survey.services.desks.links import get_desk

    with app_session() as (app, session):
        click.echo(_url(app, get_desk(session, code)))


@desk_group.command("rotate")
@click.argument("code")
@clear_errors
def desk_rotate(code: str) -> None:
    """New QR code for the desk; old posters get a 'this code was replaced' page."""
    from survey.services.audit import record
    from survey.services.desks.links import rotate_desk

    with app_session() as (app, session):
        desk = rotate_desk(session, code)
        record(session, "desk.rotate", "desk", desk.id,
               detail={"code": desk.code, "token_version": desk.token_version})
        click.echo(f"desk {desk.code}: new QR code (version {desk.token_version}); reprint it")
        click.echo(_url(app, desk))


def _set_active(code: str, active: bool) -> None:
    from survey.services.audit import record
    from survey.services.desks.links import set_desk_active

    with app_session() as (_app, session):
        desk = set_desk_active(session, code, active)
        record(session, "desk.enable" if active else "desk.disable", "desk", desk.id,
               detail={"code": desk.code})
        click.echo(f"desk {desk.code}: {'enabled' if active else 'disabled'}")


@desk_group.command("disable")
@click.argument("code")
@clear_errors
def desk_disable(code: str) -> None:
    """Stop taking evaluations at the desk (its evaluations are kept)."""
    _set_active(code, False)


@desk_group.command("enable")
@click.argument("code")
@clear_errors
def desk_enable(code: str) -> None:
    """Take evaluations at a disabled desk again (same QR code)."""
    _set_active(code, True)


@desk_group.command("qr")
@click.argument("code", required=False)
@click.option("--all", "all_desks", is_flag=True, help="Every active desk, into --out DIR.")
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="FILE ending in .png, .svg or .pdf (A5 poster); a folder with --all.")
@click.option("--format", "fmt", type=click.Choice(["png", "svg", "pdf"]), default="pdf",
              show_default=True, help="File type with --all.")
@clear_errors
def desk_qr(code: str | None, all_desks: bool, out: Path, fmt: str) -> None:
    """Write a desk's QR code (PNG, SVG) or printable A5 poster (PDF)."""
    from survey.services.desks.links import get_desk, list_desks
    from survey.services.desks.qr import FORMATS, render

    if all_desks == (code is not None):
        raise click.UsageError("give either a desk CODE or --all")
    if all_desks:
        if not out.is_dir():
            raise click.ClickException(f"folder {out} does not exist")
    else:
        fmt = out.suffix.lower().lstrip(".")
        if fmt not in FORMATS:
            raise click.ClickException(f"--out must end in .png, .svg or .pdf, got {out.name!r}")
        if not out.parent.is_dir():
            raise click.ClickException(f"folder {out.parent} does not exist")
    with app_session() as (app, session):
        if all_desks:
            desks = [row.desk for row in list_desks(session) if row.desk.active]
            targets = [(desk, out / f"{desk.code}.{fmt}") for desk in desks]
        else:
            assert code is not None
            targets = [(get_desk(session, code), out)]
        for desk, path in targets:
            path.write_bytes(render(fmt, _url(app, desk), desk.name, desk.agency, desk.code))
            click.echo(f"wrote {path}")


@desk_group.command("bursts")
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 366))
@click.option("--window", "window_minutes", default=10, show_default=True,
              type=click.IntRange(1, 1440), help="Minutes.")
@click.option("--min-address", default=6, show_default=True, type=click.IntRange(2))
@click.option("--min-pattern", default=10, show_default=True, type=click.IntRange(2))
@clear_errors
def desk_bursts(days: int, window_minutes: int, min_address: int, min_pattern: int) -> None:
    """Suspicious bursts: many evaluations from one address or with identical answers."""
    from datetime import UTC, datetime, timedelta

    from survey.services.desks.bursts import burst_report

    with app_session() as (_app, session):
        found = burst_report(session, since=datetime.now(UTC) - timedelta(days=days),
                             window=timedelta(minutes=window_minutes),
                             min_same_address=min_address, min_same_pattern=min_pattern)
    for b in found:
        click.echo(f"{b.desk_code:<16} {b.kind:<8} {b.count:>5}  "
                   f"{b.first_at:%Y-%m-%d %H:%M:%S} - {b.last_at:%H:%M:%S} UTC  {b.key[:8]}")
    if not found:
        click.echo("no suspicious bursts")


@desk_group.command("purge-contacts")
@click.option("--days", type=click.IntRange(min=0), default=None,
              help="Keep contacts this many days (default: CONTACT_RETENTION_DAYS, 180).")
@clear_errors
def desk_purge_contacts(days: int | None) -> None:
    """Delete follow-up phone numbers older than the retention period (evaluations stay)."""
    from survey.services.desks.retention import DEFAULT_CONTACT_RETENTION_DAYS, purge_contacts

    with app_session() as (app, session):
        keep = days if days is not None else int(
            app.config.get("CONTACT_RETENTION_DAYS", DEFAULT_CONTACT_RETENTION_DAYS))
        deleted = purge_contacts(session, keep)
    click.echo(f"deleted {deleted} contacts older than {keep} days")
