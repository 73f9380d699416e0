"""``sipas plan``: the sample-size planner on the command line.

Thin wrapper over :func:`analysis.plan.plan_sample_size`.  It prints every step so an
analyst can check the arithmetic (labels in Vietnamese and English), and turns any bad
input into one ``Error: ...`` line with a non-zero exit, never a traceback.  Imports
neither Flask nor SQLModel.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import click

from analysis.plan import SamplePlan, plan_sample_size


class _OneLineErrors(click.Command):
    """Report option errors (e.g. ``--moe abc``) as one line, like the planner's own checks."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise click.ClickException(exc.format_message()) from None


def render_table(plan: SamplePlan) -> str:
    """The plan for people: inputs, numbered steps, then the sizes to complete and issue."""
    rows: list[tuple[str, str]] = [
        ("Sai số biên / margin of error (e)", f"{plan.moe:g}"),
        ("Tỷ lệ dự kiến / expected proportion (p)", f"{plan.p:g}"),
        ("Hệ số thiết kế / design effect (deff)", f"{plan.deff:g}"),
        ("Độ tin cậy / confidence level", f"{plan.level:.0%}".replace(".0%", "%")
         + f" (z = {plan.z:.6f})"),
    ]
    if plan.population is not None:
        rows.append(("Quy mô tổng thể / population size (N)", f"{plan.population:g}"))
    if plan.psus is not None:
        rows.append(("Số PSU, số tầng / PSUs, strata (K, H)", f"{plan.psus}, {plan.strata}"))
    if plan.response_rate < 1:
        rows.append(("Tỷ lệ trả lời / response rate", f"{plan.response_rate:g}"))
    width = max(len(label) for label, _ in rows)
    lines = ["Kế hoạch cỡ mẫu / Sample size plan", ""]
    lines += [f"  {label:<{width}}  {value}" for label, value in rows]
    lines += ["", "Các bước / Steps"]
    for i, step in enumerate(plan.steps, start=1):
        lines.append(f"  {i}. {step.label_vi} / {step.label_en}")
        lines.append(f"     {step.formula} = {step.value:.2f}")
    results = [
        ("Phiếu hoàn thành cần có / completed questionnaires needed", str(plan.completed)),
        ("Số phiếu cần phát / questionnaires to issue", str(plan.issued)),
    ]
    if plan.per_psu is not None:
        results.append(("Bình quân mỗi PSU / to issue per PSU", str(plan.per_psu)))
    width = max(len(label) for label, _ in results)
    lines += ["", "Kết quả (làm tròn lên) / Result (rounded up)"]
    lines += [f"  {label:<{width}}  {value:>6}" for label, value in results]
    if plan.note:
        lines += ["", f"Lưu ý / Note: {plan.note}"]
    return "\n".join(lines)


def plan_as_dict(plan: SamplePlan) -> dict[str, Any]:
    """Everything in the plan, steps included, for ``--format json``."""
    return dataclasses.asdict(plan)


@click.command("plan", cls=_OneLineErrors)
@click.option("--moe", type=float, required=True, help="Margin of error, e.g. 0.03 (±3 points).")
@click.option("--p", "p", type=float, default=0.5, show_default=True,
              help="Expected proportion (0.5 is the most conservative).")
@click.option("--deff", type=float, default=1.0, show_default=True, help="Design effect.")
@click.option("--response-rate", type=float, default=1.0, show_default=True,
              help="Expected share of issued questionnaires that come back completed.")
@click.option("--population", type=float, default=None,
              help="Population size N for the finite population correction.")
@click.option("--psus", type=int, default=None, help="Number of PSUs (e.g. hamlets) K.")
@click.option("--strata", type=int, default=None,
              help="Number of strata H (default 1 when --psus is given).")
@click.option("--level", type=float, default=0.95, show_default=True, help="Confidence level.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
def plan_command(
    moe: float, p: float, deff: float, response_rate: float, population: float | None,
    psus: int | None, strata: int | None, level: float, fmt: str,
) -> None:
    """Sample size for a target margin of error under a design effect.

    n0 = deff·z²·p(1−p)/e², then the finite population correction, the few-PSU inflation
    (t_{K−H}/z)² and the response rate; the result is rounded up.
    """
    if psus is not None and strata is None:
        strata = 1
    try:
        plan = plan_sample_size(
            moe, p, deff, level=level, response_rate=response_rate, population=population,
            psus=psus, strata=strata,
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if fmt == "json":
        click.echo(json.dumps(plan_as_dict(plan), ensure_ascii=False, indent=2))
    else:
        click.echo(render_table(plan))
