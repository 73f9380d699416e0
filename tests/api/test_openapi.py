"""Does every API operation keep to its OpenAPI document under generated input?

schemathesis reads ``/api/v1/openapi.json`` (generated from the code by flask-smorest) and
calls each operation with values drawn from its parameters' schemas, valid and invalid: no
answer may be a 5xx, and every answer must match the document (status documented, body of
the documented shape, content type). Short here; the same run with more examples is
``benchmarks/fuzz_api.py``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from flask import Flask

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from fuzz_api import run_schemathesis  # noqa: E402 - the benchmark's own run, shorter

EXAMPLES = int(os.environ.get("SIPAS_API_EXAMPLES", "25"))


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
