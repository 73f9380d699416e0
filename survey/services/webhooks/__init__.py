"""Webhooks: events written with the change they report, sent by a worker, exactly once per
idempotency key (see outbox.py and delivery.py)."""
