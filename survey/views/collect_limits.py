"""Rate limits, the real client address and the dossier pattern for the citizen pages.

Why here and not in ``app.py``: only the public QR pages need them, and the collect
blueprint installs them when it is registered, so the app factory stays untouched.

- One limit only, on the client address, and generous (``DESK_LIMIT_ADDRESS``): it keeps a
  flood of requests from one address off the server. Stuffing is not refused but *held*
  (``survey/services/desks/holds.py``, counted in the database, ``DESK_HOLD_*``), because a
  refusal keyed on a desk lets a few addresses silence that desk for everyone, and a mobile
  carrier puts thousands of phones behind one address.
- Storage: Redis when ``REDIS_URL`` is set (shared by every gunicorn worker and host),
  memory otherwise — then each process counts alone, so the production configuration
  (``survey/serving.py``) refuses to start several workers without Redis. If Redis goes
  away the citizen still gets the form (errors swallowed, in-memory fallback).
- The dossier-code pattern (``DOSSIER_CODE_PATTERN`` / ``SIPAS_DOSSIER_PATTERN``, a regular
  expression over the upper-cased code) is checked at start, not at a citizen's submit.
- The client address behind ``TRUSTED_PROXIES`` reverse proxies (``SIPAS_TRUSTED_PROXIES``)
  comes from ProxyFix; with 0 proxies, X-Forwarded-For is ignored, so it cannot be forged.
"""

from __future__ import annotations

import os
import re

from flask import Flask, current_app, request
from flask_limiter import Limiter
from werkzeug.middleware.proxy_fix import ProxyFix

from survey.config import ConfigError
from survey.services.desks.evaluation import DEFAULT_DOSSIER_PATTERN
from survey.services.desks.holds import HoldRules

DEFAULT_LIMITS = {"DESK_LIMIT_ADDRESS": "600 per minute"}


def client_address() -> str:
    """The address ProxyFix resolved (or the socket peer)."""
    return request.remote_addr or "unknown"


def limit(name: str) -> str:
    return str(current_app.config[name])


limiter = Limiter(key_func=client_address, key_prefix="sipas", swallow_errors=True,
                  in_memory_fallback_enabled=True, strategy="fixed-window")


def retry_after_seconds() -> int:
    """Seconds until the breached limit's window resets (at least 1)."""
    import time

    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, int(current.reset_at - time.time()) + 1)


def trusted_proxies(app: Flask) -> int:
    raw = app.config.get("TRUSTED_PROXIES", os.environ.get("SIPAS_TRUSTED_PROXIES", "0"))
    try:
        count = int(raw)
    except (TypeError, ValueError):
        count = -1
    if count < 0 or count > 5:
        raise ConfigError(f"SIPAS_TRUSTED_PROXIES must be a whole number 0-5, got {raw!r}")
    return count


def install(app: Flask) -> None:
    """Configure the limiter and ProxyFix for this app (called once per app)."""
    for name, value in DEFAULT_LIMITS.items():
        app.config.setdefault(name, value)
    redis_url = os.environ.get("REDIS_URL", "").strip()
    app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url or "memory://")
    app.config.setdefault("RATELIMIT_ENABLED", True)
    # No X-RateLimit-* headers on every answer: each costs a storage round trip; the 429
    # page sets Retry-After itself (retry_after_seconds).
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    limiter.init_app(app)
    try:
        HoldRules.from_config(app.config)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    pattern = app.config.setdefault(
        "DOSSIER_CODE_PATTERN", os.environ.get("SIPAS_DOSSIER_PATTERN") or DEFAULT_DOSSIER_PATTERN)
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ConfigError(f"SIPAS_DOSSIER_PATTERN is not a regular expression: {exc}") from None
    proxies = trusted_proxies(app)
    app.config["TRUSTED_PROXIES"] = proxies
    if proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
