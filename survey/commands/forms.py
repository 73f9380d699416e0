"""``sipas xlsform``: a questionnaire as an XLSForm workbook (ODK, KoboToolbox)."""

from __future__ import annotations

from pathlib import Path

import click

from survey.commands import clear_errors


@click.command("xlsform")
@click.argument("code")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The .xlsx file to write.")
@clear_errors
def xlsform_command(code: str, out: Path) -> None:
    """Write the questionnaire CODE from forms/ as an XLSForm (survey, choices, settings)."""
    from survey.instruments import load_instrument
    from survey.instruments.xlsform import write_xlsform

    if out.suffix.lower() != ".xlsx":
        raise click.ClickException("--out must be an .xlsx file")
    if not out.parent.exists():
        raise click.ClickException(f"folder {out.parent} does not exist")
    try:
        form = load_instrument(code)
    except (KeyError, FileNotFoundError, ValueError) as exc:
        raise click.ClickException(f"no questionnaire {code!r} in forms/ ({exc})") from None
    write_xlsform(form, out)
    click.echo(f"wrote {form.code} {form.version} ({len(form.items)} items) to {out}")
