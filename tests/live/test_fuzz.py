"""schemathesis over the whole OpenAPI schema against the served app, with a key holding every scope and without
any credentials: no answer may be a server error, and every documented answer must match its schema.

The budget is small so that `make test` stays quick (about two minutes on two cores); raise it, and add the
coverage phase (boundary and invalid values of every parameter), to fuzz longer (see docs/api.md):

    FUZZ_MAX_EXAMPLES=200 FUZZ_COVERAGE=1 .venv/bin/pytest tests/live/test_fuzz.py -p no:randomly
"""

from __future__ import annotations

import json
import os

import pytest
import schemathesis
from hypothesis import settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import response_schema_conformance

pytestmark = pytest.mark.live

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "5"))
COVERAGE = os.environ.get("FUZZ_COVERAGE", "") == "1"
CHECKS = [not_a_server_error, response_schema_conformance]


def _config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
            "request-timeout": 30,
            # Each operation on its own; the stateful phase (chains of calls) is for a longer local run.
            "phases": {"coverage": {"enabled": COVERAGE}, "stateful": {"enabled": False}},
        }
    )


def _generated_schema() -> dict:
    """The schema /api/schema/ serves, generated when this module is collected (the server is not up yet)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


schema = schemathesis.openapi.from_dict(_generated_schema(), config=_config())


def test_the_fuzzed_schema_is_the_one_served(live):
    served = live.call("GET", "/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"}).json()
    assert sorted(served["paths"]) == sorted(schema.raw_schema["paths"])


@schema.parametrize()
def test_api_with_a_key(case, live):
    key = {"Authorization": f"Api-Key {live.fuzz_key}"}
    case.call_and_validate(base_url=live.base_url, headers=key, checks=CHECKS)


@schema.parametrize()
@settings(max_examples=min(MAX_EXAMPLES, 2))  # every answer is the same 401: a couple of requests suffice
def test_api_without_credentials(case, live):
    case.call_and_validate(base_url=live.base_url, checks=CHECKS)
