"""``sipas init`` and ``sipas run``."""

from __future__ import annotations

import click

from survey.commands import app_engine, clear_errors


@click.command("init")
@click.option(
    "--demo", type=click.Choice(["province", "national"]), is_flag=False,
    flag_value="province", default=None,
    help="Also build demo data (only into an empty database): --demo (or --demo province) a "
         "province; --demo national the 34 provinces, the ministry's accounts and a few "
         "hundred thousand desk evaluations (a minute or more).")
@click.option("--evaluations", type=click.IntRange(0, 5_000_000), default=300_000,
              show_default=True, help="With --demo national: desk evaluations to build.")
@clear_errors
def init_command(demo: str | None, evaluations: int) -> None:
    """Create or upgrade the database and publish forms/; safe to run again."""
    from survey.instruments import load_forms_dir

    forms = load_forms_dir()  # validate every form before touching the database
    with app_engine() as (app, engine):
        _init(app, engine, forms, demo, evaluations)


def _init(app, engine, forms, demo: str | None,  # type: ignore[no-untyped-def]
          evaluations: int = 300_000) -> None:
    from survey.db import session_scope
    from survey.migrate import upgrade_database
    from survey.services.instruments import publish

    before, after = upgrade_database(engine)
    if before != after:
        click.echo(f"database schema: {before or 'empty'} -> {after}")
    else:
        click.echo(f"database schema: up to date ({after})")
    with session_scope(engine) as session:
        for form in forms.values():
            result = publish(session, form)
            state = "published" if result.created else "unchanged"
            click.echo(f"form {result.code} {result.version}: {state}")
    if demo:
        from survey.services.demo import build_demo
        from survey.services.demo_national import build_national_demo
        from survey.services.desks.links import dossier_secret

        secret = dossier_secret(app.config["SECRET_KEY"])
        with session_scope(engine) as session:
            report = build_demo(session, secret=secret) if demo == "province" else \
                build_national_demo(session, secret, evaluations)
            if report is not None:
                report += "\n" + _demo_tablet(session, app.config["BASE_URL"])
        if report is None:
            click.echo("demo: the database already has data; demo not added")
        else:
            click.echo(report)


def _demo_tablet(session, base_url: str) -> str:  # type: ignore[no-untyped-def]
    """A counter tablet at the demo's first desk, so the kiosk can be tried at once."""
    from sqlmodel import select

    from survey.models import Desk
    from survey.services.kiosk.devices import kiosk_path, register

    desk = session.exec(select(Desk).order_by(Desk.id)).first()
    made = register(session, desk, "Quầy 1", None)
    return (f"counter tablet (kiosk) at {desk.code}, shown once / máy tính bảng tại quầy: "
            f"{base_url.rstrip('/')}{kiosk_path(made.key)}")


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--debug", is_flag=True, help="Flask debug mode (never in production).")
@clear_errors
def run_command(host: str, port: int, debug: bool) -> None:
    """Serve the web app (development server; use gunicorn behind a proxy in production)."""
    from survey.app import create_app

    app = create_app()
    app.run(host=host, port=port, debug=debug, use_reloader=False)
