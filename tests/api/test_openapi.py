"""Does every API operation keep to its OpenAPI document under generated input?

schemathesis reads ``/api/v1/openapi.json`` (generated from the code by flask-smorest) and
calls each operation with values drawn from its parameters' schemas, valid and invalid: no
answer may be a 5xx, and every answer must match the document (status documented, body of
the documented shape, content type). Short here; the same run with more examples is
``benchmarks/fuzz_api.py``.
"""

from __future__ import annotations

import os

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings

from tests.api.conftest import bearer

EXAMPLES = int(os.environ.get("SIPAS_API_EXAMPLES", "25"))


def run_schemathesis(app: Flask, token: str, examples: int) -> list[str]:
    """Every operation against the app; the operations that were run."""
    import schemathesis

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    ran = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def call(case) -> None:  # type: ignore[no-untyped-def]
            # every check schemathesis has: no 5xx, status and body as documented, the
            # content type, and the token enforced (it replays without it and with a bad one)
            case.call_and_validate(headers=bearer(token))

        call()
        ran.append(f"{operation.method.upper()} {operation.path}")
    return ran


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_do_generated_calls_keep_to_the_openapi_document(demo: Flask,
                                                          tokens: dict[str, str]) -> None:
    ran = run_schemathesis(demo, tokens["analyst"], EXAMPLES)
    assert {"GET /api/v1/responses", "GET /api/v1/index", "GET /api/v1/desks",
            "GET /api/v1/rounds", "GET /api/v1/units", "GET /api/v1/me"} <= set(ran)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_is_the_openapi_document_open_and_describing_the_token(demo: Flask) -> None:
    spec = demo.test_client().get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.") and set(spec["components"]["securitySchemes"]) \
        == {"token", "basic"}
    responses = spec["paths"]["/api/v1/responses"]["get"]
    names = {p["name"] for p in responses["parameters"]}
    assert {"round", "status", "instrument", "period", "updated_since", "after",
            "limit"} <= names
    assert {"200", "401", "403", "422", "429"} <= set(responses["responses"])
