"""Does every route answer each role (and anonymous) exactly as this hand-written matrix says?

The matrix is written out by hand from the product's intent, not read from the decorators,
so a route whose decorator drifts (or a new route nobody thought about) fails here. A route
that exists in the app but not in the matrix fails the test: add it, deciding who may use it.

allow: the role check lets the request through (any answer but 403 or a login redirect;
       404 for the made-up ids below is fine).
deny:  anonymous → redirect to the login page; a logged-in role → 403.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.engine import Engine
from sqlmodel import Session

from survey.models_accounts import ApiToken
from tests import factories
from tests.support import CHEAP_ARGON2

ANON, ENUM, SUP, ANALYST, ADMIN = "anonymous", "enumerator", "supervisor", "analyst", "admin"
EVERYONE = frozenset({ANON, ENUM, SUP, ANALYST, ADMIN})
LOGGED_IN = frozenset({ENUM, SUP, ANALYST, ADMIN})
STAFF = frozenset({SUP, ADMIN})
KEYERS = frozenset({ENUM, SUP})
ADMIN_ONLY = frozenset({ADMIN})
REPORT_READERS = frozenset({ANALYST, SUP, ADMIN})

# endpoint -> (a URL that reaches it, the roles allowed). Written by hand; keep it that way.
MATRIX: dict[str, tuple[str, frozenset[str]]] = {
    # public pages: home, health, login, the citizen's QR evaluation
    "main.home": ("/", EVERYONE),
    "main.healthz": ("/healthz", EVERYONE),
    "auth.login": ("/auth/login", EVERYONE),
    "auth.logout": ("/auth/logout", LOGGED_IN),
    "auth.change_password": ("/auth/password", LOGGED_IN),
    "collect.evaluate": ("/d/not-a-real-token", EVERYONE),
    "collect.thanks": ("/d/thanks", EVERYONE),
    # the counter tablet: its key in the address is its credential (no account)
    "kiosk.screen": ("/kiosk/not-a-real-key", EVERYONE),
    "kiosk.ticket": ("/kiosk/not-a-real-key/ticket", EVERYONE),
    "kiosk.evaluations": ("/kiosk/not-a-real-key/evaluations", EVERYONE),
    "static": ("/static/sipas.css", EVERYONE),
    # desks and QR codes: supervisors and admins
    "desks.index": ("/desks/", STAFF),
    "desks.detail": ("/desks/NO-SUCH-DESK", STAFF),
    "desks.qr": ("/desks/NO-SUCH-DESK/qr.png", STAFF),
    "desks.change": ("/desks/NO-SUCH-DESK/rotate", STAFF),
    "desks.edit": ("/desks/NO-SUCH-DESK/edit", STAFF),
    "desks.kiosk_add": ("/desks/NO-SUCH-DESK/kiosks", STAFF),
    # dossiers from the one-stop software: supervisors import; coverage for report readers
    "dossiers.index": ("/dossiers/", STAFF),
    "dossiers.coverage_view": ("/dossiers/coverage?period=2025", REPORT_READERS),
    "desks.kiosk_revoke": ("/desks/NO-SUCH-DESK/kiosks/999999/revoke", STAFF),
    "desks.contacts": ("/desks/contacts.csv", STAFF),
    "desks.bursts": ("/desks/bursts", STAFF),
    "desks.decide_held_view": ("/desks/held", STAFF),
    # paper entry: keyers key; supervisors (and the admin) review and watch fieldwork
    "entry.start": ("/entry/", KEYERS),
    "entry.key": ("/entry/keying/999999", KEYERS),
    "entry.keep": ("/entry/keying/999999/draft", KEYERS),
    "entry.review": ("/entry/review", STAFF),
    "entry.reconcile_case": ("/entry/review/case/999999", STAFF),
    "entry.response": ("/entry/response/999999", STAFF),
    "entry.response_status": ("/entry/response/999999/status", STAFF),
    "entry.response_edit": ("/entry/response/999999/edit", STAFF),
    "entry.fieldwork": ("/entry/fieldwork", STAFF),
    # the ministry's level of review (whole-deployment reviewers; areas are refused)
    "entry.ministry_review": ("/entry/ministry", STAFF),
    "entry.ministry_decide": ("/entry/response/999999/ministry", STAFF),
    "entry.assignments": ("/entry/assignments", STAFF),
    "entry.assign_hamlet": ("/entry/assignments/999999", STAFF),
    "entry.unassign": ("/entry/assignments/range/999999/delete", STAFF),
    # sample frame, PPS draw and fieldwork lists: supervisors and admins
    "sample.index": ("/sample/", STAFF),
    "sample.frame_upload": ("/sample/frame", STAFF),
    "sample.draw": ("/sample/draw", STAFF),
    "sample.lists_csv": ("/sample/NO-ROUND/fieldwork.csv", STAFF),
    "sample.lists_pdf": ("/sample/NO-ROUND/fieldwork/nobody.pdf", STAFF),
    # survey rounds, listing counts, weights and publication: supervisors and admins
    "rounds.index": ("/rounds/", STAFF),
    "rounds.detail": ("/rounds/NO-ROUND", STAFF),
    "rounds.listing": ("/rounds/NO-ROUND/listing", STAFF),
    "rounds.weights": ("/rounds/NO-ROUND/weights", STAFF),
    "rounds.publish": ("/rounds/NO-ROUND/publish", STAFF),
    # the audit log: supervisors and admins
    "audit.index": ("/audit/", STAFF),
    # blank templates of the uploads: whoever uploads (staff, and analysts for volumes)
    "uploads.template": ("/uploads/templates/frame.csv", REPORT_READERS),
    # reports and exports: analysts, supervisors and admins; never keyers or the public
    "reports.dashboard": ("/reports/", REPORT_READERS),
    "reports.chart": ("/reports/charts/elements/no-such-chart.svg", REPORT_READERS),
    "reports.report": ("/reports/report", REPORT_READERS),
    "reports.exports": ("/reports/exports", REPORT_READERS),
    "reports.download": ("/reports/exports/download", REPORT_READERS),
    "reports.volumes": ("/reports/volumes", REPORT_READERS),
    # accounts: the administrator (every account) and supervisors (enumerators' accounts)
    "admin.users": ("/admin/users", STAFF),
    "admin.set_user_active": ("/admin/users/999999/active", STAFF),
    "admin.reset_password": ("/admin/users/999999/password", STAFF),
    "admin.sign_out_everywhere": ("/admin/users/999999/sessions", STAFF),
    "admin.change_role": ("/admin/users/999999/role", ADMIN_ONLY),
    "admin.change_scope": ("/admin/users/999999/area", ADMIN_ONLY),
    # low ratings followed up: supervisors and admins
    "followup.index": ("/followup/", STAFF),
    "followup.answer": ("/followup/999999", STAFF),
    # one's own API tokens: whoever may read the data (the administrator sees everyone's)
    "tokens.index": ("/account/tokens/", REPORT_READERS),
    "tokens.revoke": ("/account/tokens/999999/revoke", REPORT_READERS),
    # the API and the OData feed: a token of a reader (see TOKEN_ROUTES); its description open
    "api_docs.openapi_json": ("/api/v1/openapi.json", EVERYONE),
    "api.me": ("/api/v1/me", REPORT_READERS),
    "api.responses": ("/api/v1/responses", REPORT_READERS),
    "api.index": ("/api/v1/index?round=NO-ROUND", REPORT_READERS),
    "api.rounds": ("/api/v1/rounds", REPORT_READERS),
    "api.desks": ("/api/v1/desks", REPORT_READERS),
    "api.units": ("/api/v1/units", REPORT_READERS),
    "api.push_dossiers": ("/api/v1/dossiers", STAFF),  # a one-stop system sends dossiers in
    "api.dossier_coverage": ("/api/v1/dossiers/coverage?period=2025", REPORT_READERS),
    "api.dossier_link": ("/api/v1/dossiers/link", STAFF),
    "api.open_kiosk_ticket": ("/api/v1/kiosk/999999/ticket", STAFF),  # the queue system
    "odata.service": ("/odata/v1/", REPORT_READERS),
    "odata.metadata": ("/odata/v1/$metadata", REPORT_READERS),
    "odata.entity_set": ("/odata/v1/no_such_form", REPORT_READERS),
}
# Authenticated by a token in the Authorization header, never by the login cookie: each role
# presents its own token; no token is a 401 (a program cannot follow a login redirect).
TOKEN_ROUTES = frozenset(e for e in MATRIX if e.startswith(("api.", "odata.")))

PASSWORD = "route matrix pass 1"
TOKEN = "sipas_route-matrix-token-"  # + the role


@pytest.fixture
def matrix_app(engine: Engine, db_url: str, instance_dir: Path) -> Iterator[Flask]:
    """The app with CSRF off, so that POST routes reach the role check."""
    from survey.app import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "matrix", "DATABASE_URL": db_url,
                      "ARGON2_PARAMS": CHEAP_ARGON2, "WTF_CSRF_ENABLED": False})
    with Session(app.extensions["sipas_engine"]) as session:
        for role in (ENUM, SUP, ANALYST, ADMIN):
            user = factories.user(session, role, username=f"m-{role}", password=PASSWORD)
            # a token for every role, the keyer's too (made as it would be before a change of
            # role: the service itself refuses to make one for a keyer)
            session.add(ApiToken(user_id=user.id, name="matrix", prefix=TOKEN[:12],
                                 token_hash=hashlib.sha256(f"{TOKEN}{role}".encode()).hexdigest()))
        session.commit()
    yield app
    app.extensions["sipas_engine"].dispose()


def _methods(app: Flask, endpoint: str) -> list[str]:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_route_is_in_the_matrix(matrix_app: Flask) -> None:
    routes = {rule.endpoint for rule in matrix_app.url_map.iter_rules()}
    missing = sorted(routes - MATRIX.keys())
    stale = sorted(MATRIX.keys() - routes)
    assert not missing, f"routes missing from the hand-written matrix: {missing}"
    assert not stale, f"matrix rows for routes that no longer exist: {stale}"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("who", [ANON, ENUM, SUP, ANALYST, ADMIN])
def test_each_role_is_allowed_or_denied_as_the_matrix_says(matrix_app: Flask, who: str) -> None:
    client = matrix_app.test_client()
    if who != ANON:
        login = client.post("/auth/login", data={"username": f"m-{who}", "password": PASSWORD})
        assert login.status_code == 302
    wrong = []
    # logout last: it ends the session the other checks need
    for endpoint in sorted(MATRIX, key=lambda e: e == "auth.logout"):
        url, allowed = MATRIX[endpoint]
        if endpoint not in matrix_app.view_functions:
            continue  # reported by test_every_route_is_in_the_matrix
        for method in _methods(matrix_app, endpoint):
            by_token = endpoint in TOKEN_ROUTES
            headers = {"Authorization": f"Bearer {TOKEN}{who}"} if by_token and who != ANON \
                else {}
            reply = client.open(url, method=method, headers=headers)
            reply.close()  # static files are streamed: close them
            assert reply.status_code < 500, f"{method} {url} as {who}: {reply.status_code}"
            to_login = reply.status_code == 401 if by_token else \
                reply.status_code in (301, 302, 303, 401) and \
                "/auth/login" in reply.headers.get("Location", "")
            denied = reply.status_code == 403 or to_login
            if who in allowed and denied:
                wrong.append(f"{method} {url}: {who} should be allowed, got {reply.status_code}")
            if who not in allowed:
                expected = to_login if who == ANON else reply.status_code == 403
                if not expected:
                    wrong.append(f"{method} {url}: {who} should be denied, got "
                                 f"{reply.status_code}")
    assert not wrong, "\n".join(wrong)
