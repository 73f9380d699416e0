"""``sipas kiosk add|list|revoke``: counter tablets registered to a desk."""

from __future__ import annotations

from pathlib import Path

import click

from survey.commands import app_session, clear_errors


@click.group("kiosk")
def kiosk_group() -> None:
    """Counter tablets (kiosks): the rating screen at a desk's counter."""


@kiosk_group.command("add")
@click.argument("desk")
@click.option("--name", required=True, help="Which tablet, e.g. 'Quầy 3'.")
@click.option("--qr", "qr_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the tablet's address as a QR code (PNG) to open it on the tablet.")
@clear_errors
def kiosk_add(desk: str, name: str, qr_path: Path | None) -> None:
    """Register a tablet at the desk DESK and print its address (shown once: keep it)."""
    from survey.services.desks.links import get_desk
    from survey.services.desks.qr import qr_png
    from survey.services.kiosk.devices import kiosk_path, register

    with app_session() as (app, session):
        found = get_desk(session, desk)
        made = register(session, found, name, None)
        url = app.config["BASE_URL"].rstrip("/") + kiosk_path(made.key)
        device_id = made.device.id
    if qr_path is not None:
        qr_path.write_bytes(qr_png(url))
    click.echo(url)
    click.echo(f"tablet {device_id} at {desk}; the queue system opens tickets with "
               f"POST /api/v1/kiosk/{device_id}/ticket", err=True)


@kiosk_group.command("list")
@click.argument("desk", required=False)
@clear_errors
def kiosk_list(desk: str | None) -> None:
    """The tablets (of one desk, or all), with when each last asked the server."""
    from sqlmodel import select

    from survey.models import Desk
    from survey.models_kiosk import KioskDevice

    with app_session() as (_app, session):
        query = select(KioskDevice, Desk.code).join(Desk, Desk.id == KioskDevice.desk_id)
        if desk:
            query = query.where(Desk.code == desk.strip())
        rows = session.exec(query.order_by(Desk.code, KioskDevice.id)).all()
        lines = [(d.id, code, d.name, "revoked" if d.revoked_at else "active",
                  d.last_seen_at.isoformat(timespec="minutes") if d.last_seen_at else "never")
                 for d, code in rows]
    click.echo(f"{'id':>5}  {'desk':<14} {'name':<30} {'state':<8} last seen (UTC)")
    for device_id, code, name, state, last in lines:
        click.echo(f"{device_id:>5}  {code:<14} {name[:30]:<30} {state:<8} {last}")


@kiosk_group.command("revoke")
@click.argument("device_id", type=int)
@clear_errors
def kiosk_revoke(device_id: int) -> None:
    """Revoke tablet DEVICE_ID: its address stops working at once."""
    from survey.services.kiosk.devices import revoke

    with app_session() as (_app, session):
        device = revoke(session, device_id, None)
        if device is None:
            raise click.ClickException(f"no tablet {device_id} (see sipas kiosk list)")
    click.echo(f"tablet {device_id} revoked")
