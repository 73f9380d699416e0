"""``sipas xlsform``: questionnaires to and from XLSForm workbooks (ODK, KoboToolbox).

``sipas xlsform export CODE --out F.xlsx`` writes a form of ``forms/`` as an XLSForm;
``sipas xlsform import F.xlsx --out forms/x.yaml`` reads one back as a form file.
``sipas xlsform CODE --out F.xlsx``, the command's first shape, still exports.
"""

from __future__ import annotations

from pathlib import Path

import click

from survey.commands import clear_errors


class _XlsformGroup(click.Group):
    """A group whose first argument, when it names no subcommand, is a form to export.

    ``sipas xlsform CODE --out F.xlsx`` came before ``import`` existed; scripts and the
    README use it, so it keeps working as ``export``.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["export", *args]
        return super().parse_args(ctx, args)


@click.group("xlsform", cls=_XlsformGroup)
def xlsform_command() -> None:
    """Questionnaires as XLSForm workbooks (ODK Collect, KoboToolbox): export and import."""


@xlsform_command.command("export")
@click.argument("code")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The .xlsx file to write.")
@clear_errors
def export_command(code: str, out: Path) -> None:
    """Write the questionnaire CODE from forms/ as an XLSForm (survey, choices, settings)."""
    from survey.instruments import load_instrument
    from survey.instruments.xlsform.export import write_xlsform

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


@xlsform_command.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The form file to write (.yaml), such as forms/my_form.yaml.")
@click.option("--force", is_flag=True, help="Overwrite --out when it exists.")
@clear_errors
def import_command(file: Path, out: Path, force: bool) -> None:
    """Read the XLSForm workbook FILE (.xlsx) as a SIPAS questionnaire and write its YAML.

    The file is checked as `sipas init` checks forms/; every problem is named by sheet,
    row and column. What SIPAS leaves out on purpose (metadata rows) is noted.
    """
    from survey.instruments.xlsform.reader import read_xlsform

    if out.suffix.lower() not in (".yaml", ".yml"):
        raise click.ClickException("--out must be a .yaml file")
    if not out.parent.exists():
        raise click.ClickException(f"folder {out.parent} does not exist")
    if out.exists() and not force:
        raise click.ClickException(f"{out} exists; add --force to overwrite it")
    form = read_xlsform(file)
    out.write_text(form.text, encoding="utf-8")
    for note in form.notes:
        click.echo(f"note: {note}", err=True)
    instrument = form.instrument
    click.echo(f"wrote {instrument.code} {instrument.version} ({len(instrument.items)} items) "
               f"to {out}")
