"""``sipas dossiers import FILE``: dossiers from the one-stop system's export."""

from __future__ import annotations

from pathlib import Path

import click

from survey.commands import app_session, clear_errors


@click.group("dossiers")
def dossiers_group() -> None:
    """Dossiers from the one-stop system (CSV or Excel, as its export gives them)."""


@dossiers_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@clear_errors
def dossiers_import(file: Path) -> None:
    """Import FILE; every line is checked first (one bad line: nothing is stored)."""
    from zoneinfo import ZoneInfo

    from survey.services.audit import record
    from survey.services.data.uploads import upload_text
    from survey.services.desks.links import dossier_secret
    from survey.services.dossiers.records import desk_codes, parse_dossiers, store_dossiers

    if file.stat().st_size > 200 * 1024 * 1024:
        raise click.ClickException(f"{file} is over 200 MB: split it")
    with app_session() as (app, session):
        text = upload_text(file.read_bytes(), file.name)
        zone = ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])
        rows = parse_dossiers(text, desk_codes(session), zone)
        stored = store_dossiers(session, rows, dossier_secret(app.config["SECRET_KEY"]),
                                "import")
        record(session, "dossiers.import", "dossier", detail={
            "file": file.name[:200], "inserted": stored.inserted, "updated": stored.updated,
            "unchanged": stored.unchanged})
    click.echo(f"{stored.inserted} new, {stored.updated} updated, {stored.unchanged} "
               f"unchanged dossiers from {file.name}")


@dossiers_group.command("coverage")
@click.option("--period", required=True, help="Returned in this period: 2025, 2025-Q3, 2025-09.")
@click.option("--by", type=click.Choice(["desk", "field", "agency", "procedure"]),
              default="desk", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@clear_errors
def dossiers_coverage(period: str, by: str, fmt: str) -> None:
    """Evaluated ÷ returned dossiers, and on time by the dossiers and by the citizens."""
    import csv
    import json
    import sys

    from survey.services.dossiers.coverage import coverage
    from survey.services.reports.period import parse_period

    span = parse_period(period)
    with app_session() as (_app, session):
        rows = [r.as_dict() for r in coverage(session, span, by)]
    if fmt == "json":
        click.echo(json.dumps({"period": span.code, "by": by, "rows": rows},
                              ensure_ascii=False, indent=1))
        return
    if fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return

    def pct(value: float | None) -> str:
        return "–" if value is None else f"{100 * value:.1f}%"

    click.echo(f"{by:<30} {'returned':>9} {'evaluated':>9} {'coverage':>9} "
               f"{'on time':>9} {'citizens':>9} {'agree':>7}")
    for r in rows:
        name = r["group"] or "(all)"
        click.echo(f"{name[:30]:<30} {r['returned']:>9} {r['evaluated']:>9} "
                   f"{pct(r['coverage']):>9} {pct(r['on_time_rate']):>9} "
                   f"{pct(r['citizens_on_time_rate']):>9} {pct(r['agreement']):>7}")


@dossiers_group.command("link")
@click.argument("code")
@click.option("--qr", "qr_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the link's QR code as a PNG (for the receipt).")
@clear_errors
def dossiers_link(code: str, qr_path: Path | None) -> None:
    """The signed, single-use evaluation link of the dossier CODE (receipt, SMS, Zalo)."""
    from survey.services.desks.qr import qr_png
    from survey.services.dossiers.links import DEFAULT_DAYS, make_link

    with app_session() as (app, session):
        days = int(app.config.get("DOSSIER_LINK_DAYS", DEFAULT_DAYS))
        made = make_link(session, app.config["BASE_URL"], app.config["SECRET_KEY"], code, days)
    if qr_path is not None:
        qr_path.write_bytes(qr_png(made.url))
    click.echo(made.url)
    click.echo(f"valid until {made.expires_at.isoformat(timespec='minutes')}; usable once",
               err=True)
