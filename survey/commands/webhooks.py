"""``sipas webhook add|list|disable|enable|log|retry|run``."""

from __future__ import annotations

import click

from survey.commands import app_engine, app_session, clear_errors
from survey.models_webhooks import EVENT_KINDS


@click.group("webhook")
def webhook_group() -> None:
    """Webhooks: another system told of low ratings, verified responses, published rounds."""


@webhook_group.command("add")
@click.argument("url")
@click.option("--event", "events", multiple=True, required=True,
              type=click.Choice(EVENT_KINDS), help="An event to send (repeatable).")
@click.option("--threshold", type=click.IntRange(1, 5), default=2, show_default=True,
              help="evaluation.low: an overall rating at or below this.")
@click.option("--include-phone", is_flag=True,
              help="Send the phone a citizen gave for follow-up (off by default).")
@click.option("--include-comments", is_flag=True,
              help="Send free-text comments (they may name people; off by default).")
@clear_errors
def webhook_add(url: str, events: tuple[str, ...], threshold: int, include_phone: bool,
                include_comments: bool) -> None:
    """Subscribe URL; prints the signing secret once (the receiver checks signatures)."""
    from survey.services.webhooks.outbox import add_webhook

    with app_session() as (_app, session):
        hook = add_webhook(session, url, list(events), threshold, include_phone,
                           include_comments)
        click.echo(f"webhook {hook.id} → {hook.url} ({hook.events}); signing secret, shown "
                   "only now:")
        click.echo(hook.secret)


@webhook_group.command("list")
@clear_errors
def webhook_list() -> None:
    """Webhooks with their events and what is waiting, delivered and failed."""
    from sqlalchemy import func
    from sqlmodel import col, select

    from survey.models_webhooks import Webhook, WebhookDelivery

    with app_session() as (_app, session):
        counts = {(w, s): n for w, s, n in session.exec(
            select(WebhookDelivery.webhook_id, WebhookDelivery.status, func.count())
            .group_by(WebhookDelivery.webhook_id, WebhookDelivery.status))}
        for hook in session.exec(select(Webhook).order_by(col(Webhook.id))):
            state = "active" if hook.active else "disabled"
            tally = ", ".join(f"{s} {counts.get((hook.id, s), 0)}"
                              for s in ("pending", "sending", "delivered", "failed"))
            click.echo(f"{hook.id:>4} {state:<8} {hook.url}  [{hook.events}; threshold "
                       f"{hook.threshold}]  {tally}")


def _set(webhook_id: int, active: bool) -> None:
    from survey.services.webhooks.outbox import set_active

    with app_session() as (_app, session):
        hook = set_active(session, webhook_id, active)
        click.echo(f"webhook {hook.id}: {'enabled' if active else 'disabled'}")


@webhook_group.command("disable")
@click.argument("webhook_id", type=click.IntRange(1, 2**31 - 1))
@clear_errors
def webhook_disable(webhook_id: int) -> None:
    """Stop making deliveries for this webhook (those queued are still sent)."""
    _set(webhook_id, False)


@webhook_group.command("enable")
@click.argument("webhook_id", type=click.IntRange(1, 2**31 - 1))
@clear_errors
def webhook_enable(webhook_id: int) -> None:
    _set(webhook_id, True)


@webhook_group.command("log")
@click.option("--failed", is_flag=True, help="Only deliveries that gave up.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@clear_errors
def webhook_log(failed: bool, limit: int) -> None:
    """The delivery log, newest first: each try with the receiver's answer."""
    from sqlmodel import col, select

    from survey.models_webhooks import OutboxEvent, WebhookAttempt, WebhookDelivery

    with app_session() as (_app, session):
        query = select(WebhookAttempt, WebhookDelivery, OutboxEvent).join(
            WebhookDelivery, col(WebhookDelivery.id) == WebhookAttempt.delivery_id).join(
            OutboxEvent, col(OutboxEvent.id) == WebhookDelivery.event_id)
        if failed:
            query = query.where(WebhookDelivery.status == "failed")
        for attempt, delivery, event in session.exec(
                query.order_by(col(WebhookAttempt.id).desc()).limit(limit)):
            answer = attempt.status_code if attempt.status_code is not None else attempt.error
            click.echo(f"{attempt.at.isoformat(timespec='seconds')} delivery {delivery.id} "
                       f"(webhook {delivery.webhook_id}, {event.kind} {event.uuid}) try "
                       f"{attempt.attempt}: {answer} in {attempt.duration_ms} ms → "
                       f"{delivery.status}")


@webhook_group.command("retry")
@click.argument("delivery_id", type=click.IntRange(1, 2**31 - 1))
@clear_errors
def webhook_retry(delivery_id: int) -> None:
    """Queue a failed delivery again (after the receiver is mended)."""
    from survey.services.webhooks.delivery import retry

    with app_session() as (_app, session):
        retry(session, delivery_id)
        click.echo(f"delivery {delivery_id} queued again")


@webhook_group.command("run")
@click.option("--once", is_flag=True, help="Send what is due now, then stop.")
@click.option("--poll", type=click.FloatRange(0.05, 3600), default=2.0, show_default=True,
              help="Seconds between looks at an empty queue.")
@click.option("--lease", type=click.FloatRange(1, 3600), default=60.0, show_default=True,
              help="Seconds a worker holds a delivery before another may send it again.")
@clear_errors
def webhook_run(once: bool, poll: float, lease: float) -> None:
    """The delivery worker (run it beside the web app, e.g. as a systemd service)."""
    from datetime import timedelta

    from survey.services.webhooks.delivery import run, run_once

    with app_engine() as (_app, engine):
        if once:
            counts = run_once(engine, limit=10_000, lease=timedelta(seconds=lease))
            click.echo(", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing due")
            return
        try:
            run(engine, poll=poll, lease=timedelta(seconds=lease))
        except KeyboardInterrupt:
            click.echo("stopped")
