"""The Flask application factory."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, abort, g, request, session
from flask_babel import Babel, format_datetime, format_decimal, get_locale
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from sqlmodel import Session
from werkzeug.routing import IntegerConverter, Map

from survey.config import ensure_instance_config, load_settings
from survey.db import make_engine
from survey.services.desks.links import EVALUATION_PATH

LANGUAGES = ("vi", "en")
PUBLIC_FORM_MAX_BYTES = 64 * 1024  # the citizen's desk form (EVALUATION_PATH) and the kiosk's
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'"
    ),
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class RowId(IntegerConverter):
    """``<int:…>`` in routes names table rows: an id beyond 32 bits cannot exist, so it is a
    404 here, not a PostgreSQL "integer out of range" error (a 500) in the view."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def select_locale() -> str:
    """Vietnamese unless the user chose English (``?lang=en`` sticks in the session).

    An API call has no session to keep a choice in: ``?lang=`` or its Accept-Language."""
    wanted = request.args.get("lang")
    if request.path.startswith(("/api/", "/odata/")):
        if wanted in LANGUAGES:
            return wanted
        return request.accept_languages.best_match(LANGUAGES) or "vi"
    if wanted in LANGUAGES:
        session["lang"] = wanted
    return session.get("lang", "vi")


def local_time(value: datetime | None, seconds: bool = False) -> str:
    """A stored (UTC) time on the province's clock, in the reader's locale ("14:05 01/12/2026")."""
    if value is None:
        return ""
    clock = "HH:mm:ss" if seconds else "HH:mm"
    pattern = f"{clock} dd/MM/yyyy" if str(get_locale()) == "vi" else f"d MMM yyyy {clock}"
    return format_datetime(value, pattern)


def share(value: float | None) -> str:
    """A share as a percentage with one decimal in the page's locale ("80,4 %"); "–" if none."""
    from flask_babel import format_percent

    return "–" if value is None else str(format_percent(value, "#,##0.0%"))


def localise(message: object) -> str:
    """A refusal in the reader's language: a :class:`UserError` through the catalogue, an
    older "Vietnamese / English" string by its half, anything else as it is."""
    from flask_babel import gettext

    from survey.messages import UserError

    if isinstance(message, UserError):
        return message.localised(gettext, str(get_locale() or "vi"))
    text = "" if message is None else str(message)
    if " / " not in text:
        return text
    vi, en = text.split(" / ", 1)
    return en if str(get_locale()) == "en" else vi


def level_name(code: str | None) -> str:
    """An administrative level as a person reads it ("huyện", not "district")."""
    from flask_babel import gettext

    names = {"province": gettext("province"), "district": gettext("district"),
             "commune": gettext("commune"), "hamlet": gettext("hamlet")}
    return names.get(code or "", code or "")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app; configuration errors surface here, at start, naming the variable."""
    settings = load_settings()
    app = Flask(__name__, instance_path=str(settings.instance_path), instance_relative_config=True)
    # Defaults first, so that instance/config.py can override any of them.
    app.config.update(
        REMEMBER_COOKIE_HTTPONLY=True,
        BABEL_DEFAULT_LOCALE="vi",
        BABEL_TRANSLATION_DIRECTORIES="translations",
        ARGON2_PARAMS={},
        MIN_CELL_N=30,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),  # absolute limit of a login
        SESSION_IDLE_MINUTES=30,
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,  # staff uploads (frame, volumes); citizen form: 64 KB
    )
    if test_config is None:
        ensure_instance_config(settings.instance_path)
        app.config.from_pyfile("config.py", silent=True)
    # What the environment decides, and the cookie flags, are not left to the file.
    app.config.update(
        DATABASE_URL=settings.database_url,
        BASE_URL=settings.base_url,
        BABEL_DEFAULT_TIMEZONE=settings.timezone,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
    )
    if test_config is not None:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY is missing from the instance config (instance/config.py)")

    from survey.services.users import configure_hasher

    configure_hasher(app.config["ARGON2_PARAMS"])
    app.extensions["sipas_engine"] = make_engine(app.config["DATABASE_URL"])
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Vui lòng đăng nhập / Please log in."

    app.url_map.converters["int"] = RowId  # before the blueprints add their routes
    _register_blueprints(app)

    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.filters["when"] = local_time
    app.jinja_env.filters["level_name"] = level_name
    app.jinja_env.filters["localise"] = localise
    from survey.views.audit_names import action_name

    app.jinja_env.filters["action_name"] = action_name
    app.jinja_env.filters["number"] = format_decimal  # "1.234" in Vietnamese, "1,234" in English
    app.jinja_env.filters["share"] = share
    from survey.views.area import can_open

    app.jinja_env.globals["can_open"] = can_open

    https = settings.base_url.startswith("https://")

    @app.after_request
    def _security_headers(response):  # type: ignore[no-untyped-def]
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if https:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response

    @app.before_request
    def _body_limits() -> None:
        """The public form is small (a full comment is under 10 KB): a body much larger is
        refused with the 413 page before anything reads it. Staff uploads: MAX_CONTENT_LENGTH."""
        if request.path.startswith((EVALUATION_PATH, "/kiosk/")):
            request.max_content_length = PUBLIC_FORM_MAX_BYTES

    @app.before_request
    def _session_timeouts() -> None:
        enforce_session_timeouts(app.config["SESSION_IDLE_MINUTES"])

    @app.before_request
    def _refuse_nul() -> None:
        """PostgreSQL text cannot hold NUL (any query with one fails: a 500), and no form
        or link of ours ever carries one: refuse such a request up front with a 400."""
        if any("\x00" in text for text in _request_texts()):
            abort(400)

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        db_session = g.pop("db_session", None)
        if db_session is not None:
            db_session.close()

    return app


def _request_texts() -> Iterator[str]:
    """Every text a client chose: path values, query and form fields (names too), file names."""
    yield from (str(v) for v in (request.view_args or {}).values())
    for fields in (request.args, request.form):
        for name, values in fields.lists():
            yield name
            yield from values
    for name, upload in request.files.items(multi=True):
        yield name
        yield upload.filename or ""


def enforce_session_timeouts(idle_minutes: int) -> None:
    """Log out a session idle for too long or older than PERMANENT_SESSION_LIFETIME."""
    from flask import current_app
    from flask_login import current_user, logout_user

    if not current_user.is_authenticated:
        return
    now = time.time()
    started = session.setdefault("login_at", now)
    last_seen = session.get("seen_at", now)
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    if now - last_seen > idle_minutes * 60 or now - started > lifetime:
        # Whose typing a keying view may still keep as a draft (this request, and a form
        # posted later from this browser): the form's CSRF token stays valid for that.
        user_id, token, sid = int(current_user.id), session.get("csrf_token"), session.get("sid")
        logout_user()
        session.clear()
        g.expired_user_id = user_id
        # The staff session's token goes with it: a view keeping typing checks that session
        # was not revoked since (logout elsewhere, password change, disabling, role change).
        session.update(expired_user_id=user_id, expired_sid=sid, expired_at=now)
        if token:
            session["csrf_token"] = token
        return
    session.permanent = True
    session["seen_at"] = now


# Feature blueprints: each module survey/views/<name>.py exposes ``bp``. Listed here once so
# that features can land independently; a module not present in this build is skipped.
BLUEPRINTS = ("main", "auth", "collect", "kiosk", "desks", "entry", "admin", "sample", "rounds",
              "reports", "uploads", "audit", "tokens", "followup", "dossiers", "api", "odata",
              "errors")


def _register_blueprints(app: Flask) -> None:
    import importlib

    for name in BLUEPRINTS:
        try:
            module = importlib.import_module(f"survey.views.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"survey.views.{name}":
                continue
            raise
        if hasattr(module, "register"):  # a blueprint with more to attach (the API's OpenAPI)
            module.register(app)
        else:
            app.register_blueprint(module.bp)


def get_session() -> Session:
    """The request's database session (one per request, closed at teardown)."""
    from flask import current_app

    if "db_session" not in g:
        g.db_session = Session(current_app.extensions["sipas_engine"], expire_on_commit=False)
    return g.db_session
