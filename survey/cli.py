"""The ``sipas`` command line.

Subcommands are imported lazily so that ``sipas estimate`` and ``sipas index``
start fast and never import Flask or SQLModel; only the commands that need the
web app load it.
"""

from __future__ import annotations

import importlib

import click

# name -> "module:attribute"; each attribute is a click command or group.
COMMANDS: dict[str, str] = {
    "init": "survey.commands.setup:init_command",
    "run": "survey.commands.setup:run_command",
    "user": "survey.commands.users:user_group",
    "token": "survey.commands.tokens:token_group",
    "webhook": "survey.commands.webhooks:webhook_group",
    "export": "survey.commands.export:export_command",
    "xlsform": "survey.commands.forms:xlsform_command",
    "estimate": "survey.commands.analysis:estimate_command",
    "compare": "survey.commands.analysis:compare_command",
    "quantile": "survey.commands.analysis:quantile_command",
    "model": "survey.commands.analysis:model_command",
    "association": "survey.commands.analysis:association_command",
    "replicates": "survey.commands.analysis:replicates_command",
    "smallarea": "survey.commands.analysis:smallarea_command",
    "index": "survey.commands.analysis:index_command",
    "plan": "analysis.cli_plan:plan_command",
    "rank": "analysis.cli_rank:rank_command",
    "desk": "survey.commands.desks:desk_group",
    "frame": "survey.commands.frame:frame_group",
    "sample": "survey.commands.sample:sample_group",
    "round": "survey.commands.rounds:round_group",
    "weights": "survey.commands.weights:weights_group",
    "report": "survey.commands.report:report_command",
    "volumes": "survey.commands.volumes:volumes_group",
    "dossiers": "survey.commands.dossiers:dossiers_group",
    "kiosk": "survey.commands.kiosk:kiosk_group",
    "tallies": "survey.commands.tallies:tallies_group",
    "backup": "survey.commands.backup:backup_command",
    "restore": "survey.commands.backup:restore_command",
}

HELP: dict[str, str] = {
    "init": "Create or upgrade the database and load forms/ (idempotent); --demo adds demo data.",
    "run": "Serve the web app.",
    "user": "Manage user accounts (add, list, disable).",
    "token": "Personal API tokens: create, list, revoke (REST API, OData feed).",
    "webhook": "Webhooks: add, list, log, retry; run the delivery worker.",
    "export": "Export responses (CSV, UTF-8 with BOM).",
    "xlsform": "Questionnaires as XLSForm workbooks (ODK Collect, KoboToolbox): export, import.",
    "estimate": "Design-based means and proportions with CIs (R survey compatible).",
    "index": "SIPAS criterion, element and overall indices with CIs.",
    "plan": "Sample size for a target margin of error under a design effect.",
    "rank": "Rank provinces or districts by an index, each rank with its 95% interval.",
    "desk": "One-stop desks: add, list, rotate, disable, QR codes and posters.",
    "frame": "Import the sample frame (administrative units).",
    "sample": "Draw the PPS sample of hamlets; fieldwork lists.",
    "round": "Survey rounds: create, publish (freeze).",
    "weights": "Compute base, nonresponse-adjusted and raked weights.",
    "report": "Printable report (PDF/HTML).",
    "volumes": "Import dossier volumes per desk and period.",
    "dossiers": "Import dossiers from the one-stop system's export (CSV, XLSX).",
    "kiosk": "Counter tablets (kiosks) at a desk: add, list, revoke.",
    "tallies": "Check or rebuild the desk evaluation counts the dashboard reads.",
    "backup": "Back up the database.",
    "restore": "Restore a backup into an empty instance.",
}


class LazyGroup(click.Group):
    """A group whose commands are imported only when invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if self._available(name))

    @staticmethod
    def _available(name: str) -> bool:
        import importlib.util

        module_name = COMMANDS[name].split(":")[0]
        try:
            return importlib.util.find_spec(module_name) is not None
        except ModuleNotFoundError:
            return False

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:  # a command not built yet in this checkout
            if exc.name and module_name.startswith(exc.name):
                return None
            raise
        return getattr(module, attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, HELP.get(name, "")) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup)
@click.version_option(package_name="sipas")
def main() -> None:
    """SIPAS — citizen satisfaction with public administrative services.

    Chỉ số hài lòng về sự phục vụ hành chính: thu thập, nhập liệu, phân tích.
    """


def run() -> None:
    """The ``sipas`` console script: :func:`main`, then a quicker way out.

    Why: a command that estimated something has pandas, pyarrow, scipy and SQLAlchemy
    loaded, and tearing those modules down took about 0.35 s of every such command
    (``sipas index --db`` at national size: 2.5 s in all), mostly the garbage collector
    walking their millions of objects again on the way out. Freezing them first
    (``gc.freeze``) lets the interpreter skip that walk; everything else of a normal exit
    still happens (threads joined, ``atexit`` handlers, files flushed and closed). Python
    makes no promise to finalise objects still alive at exit anyway, and the process is
    over. Only the console script does this: tests call :func:`main` in their process.
    """
    import gc

    from survey.memory import one_job

    one_job()  # a long command may set aside what it loaded too (survey.memory)
    try:
        main()
    finally:
        gc.freeze()


if __name__ == "__main__":  # pragma: no cover - `python -m survey.cli`
    run()
