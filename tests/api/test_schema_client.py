"""The published OpenAPI document as a partner uses it: it is valid OpenAPI 3, and a client generated from it with
openapi-python-client (without a warning) creates, lists and reads leads against the running API."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from openapi_spec_validator import validate

from renocrm.tenancy.context import tenant_context
from tests.factories import ApiKeyFactory, TenantFactory

# The generator's own settings: no post hooks (they would format the code with ruff, which proves nothing here),
# and the PDF and ZIP downloads read as bytes.
GENERATOR_CONFIG = """\
post_hooks: []
content_type_overrides:
  application/pdf: application/octet-stream
  application/zip: application/octet-stream
"""
PACKAGE = "renocrm_client"


@pytest.fixture(scope="module")
def schema():
    with translation.override("en"):
        return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


def test_the_schema_is_valid_openapi(schema):
    validate(schema)


@pytest.fixture
def generated_client(schema, tmp_path, monkeypatch):
    (tmp_path / "schema.json").write_text(json.dumps(schema))
    (tmp_path / "config.yaml").write_text(GENERATOR_CONFIG)
    generated = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", "schema.json"]
        + ["--output-path", PACKAGE, "--meta", "none", "--config", "config.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = generated.stdout + generated.stderr
    assert generated.returncode == 0, output
    assert "warning" not in output.lower(), output
    monkeypatch.syspath_prepend(str(tmp_path))
    yield PACKAGE
    for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]


def test_a_generated_client_creates_lists_and_reads_leads(generated_client, live_server, transactional_db):
    from renocrm_client import AuthenticatedClient
    from renocrm_client.api.leads import v1_leads_create, v1_leads_list, v1_leads_retrieve
    from renocrm_client.models import Error, Lead, LeadCreateRequest, PaginatedLeadList

    firm = TenantFactory(name="Anju", slug="anju")
    with tenant_context(firm):
        raw_key = ApiKeyFactory(scopes=["leads:read", "leads:write"]).raw_key
    client = AuthenticatedClient(base_url=live_server.url, token=raw_key, prefix="Api-Key")
    body = LeadCreateRequest(name="王芳", mobile="13800138000", core_needs="Kitchen and two bathrooms")

    created = v1_leads_create.sync_detailed(client=client, body=body, idempotency_key="expo-2026-0042")
    assert created.status_code == 201 and isinstance(created.parsed, Lead)
    assert created.headers["X-Request-ID"] and created.headers["RateLimit-Remaining"]
    lead = created.parsed
    again = v1_leads_create.sync_detailed(client=client, body=body)  # the open lead for that mobile: 200
    assert again.status_code == 200 and again.parsed.id == lead.id

    page = v1_leads_list.sync(client=client, page_size=10)
    assert isinstance(page, PaginatedLeadList)
    assert [row.id for row in page.results] == [lead.id]

    read = v1_leads_retrieve.sync(client=client, id=lead.id)
    assert isinstance(read, Lead)
    assert (read.customer_name, read.channel, read.core_needs) == ("王芳", "partner", "Kitchen and two bathrooms")
    missing = v1_leads_retrieve.sync(client=client, id=lead.id + 1000)
    assert isinstance(missing, Error) and missing.error.code == "not_found"
