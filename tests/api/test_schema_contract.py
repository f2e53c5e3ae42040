"""The published OpenAPI document is complete for a partner's generated client: every operation has a summary, a
resource tag and its error answers in the one error body; headers, the Idempotency-Key and the filters are
described; and what the document says about errors and headers is what the API answers."""

from __future__ import annotations

import json
import re

import pytest
from django.conf import settings
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator

from renocrm.api.errors import error_body
from renocrm.tenancy.context import tenant_context
from tests.leads.factories import CustomerFactory

METHODS = {"get", "post", "put", "patch", "delete"}
ERROR_REF = {"$ref": "#/components/schemas/Error"}
# What only a maintainer's note says: reST literals, attribute access, work left to do, ORM words.
CODE_COMMENT = re.compile(r"``|\bself\.|\bTODO\b|\bFIXME\b|\bqueryset\b|:class:|:func:", re.IGNORECASE)
# Main resources: hand-written descriptions and examples for list, create and retrieve.
DOCUMENTED = ["leads", "customers", "quotations", "contracts", "instalments", "change-orders", "worksites"]
DOCUMENTED += ["callbacks", "complaints"]


@pytest.fixture(scope="module")
def schema():
    # As /api/schema/ serves it to a client that asks for no other language.
    with translation.override("en"):
        return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def validator(schema, body_schema, *, answer=True):
    """A validator of a body against ``body_schema``, its references resolved in the document; an answer must
    hold the read-only fields, a request may not."""
    validator_class = OAS30ReadValidator if answer else OAS30WriteValidator
    return validator_class({**body_schema, "components": schema["components"]})


def error_schema(schema):
    return validator(schema, ERROR_REF)


def test_every_operation_has_a_summary_an_operation_id_and_a_described_resource_tag(schema):
    described = {tag["name"] for tag in settings.SPECTACULAR_SETTINGS["TAGS"] if tag.get("description")}
    ids = [operation["operationId"] for _, _, operation in operations(schema)]
    assert len(ids) == len(set(ids))
    for path, method, operation in operations(schema):
        assert operation.get("summary"), (method, path)
        assert operation.get("tags") and "v1" not in operation["tags"], (method, path)
        assert set(operation["tags"]) <= described, (method, path, operation["tags"])
    assert {tag["name"] for tag in schema["tags"]} == described


def test_summaries_are_made_from_the_resource_and_the_action(schema):
    def summary(method, path):
        return schema["paths"][path][method]["summary"]

    assert summary("get", "/api/v1/leads/") == "List leads"
    assert summary("post", "/api/v1/leads/") == "Create a lead"
    assert summary("get", "/api/v1/leads/{id}/") == "Retrieve a lead"
    assert summary("patch", "/api/v1/customers/{id}/") == "Update a customer"
    assert summary("delete", "/api/v1/webhooks/{id}/") == "Delete a webhook endpoint"
    assert summary("post", "/api/v1/change-orders/{id}/approve/") == "Approve a change order"
    assert summary("post", "/api/v1/instalments/{id}/record-payment/") == "Record the payment of an instalment"


def test_every_operation_documents_its_errors_in_the_error_body(schema):
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        expected = {"401", "403", "429"}
        if "{" in path:
            expected.add("404")
        if operation.get("requestBody") or any(p.get("in") == "query" for p in operation.get("parameters", [])):
            expected.add("400")
        if method == "post":
            expected.add("422")  # a reused Idempotency-Key
        assert expected <= set(responses), (method, path, sorted(responses))
        for code, response in responses.items():
            if code >= "400":
                assert response["content"]["application/json"]["schema"] == ERROR_REF, (method, path, code)
                assert response["description"], (method, path, code)


def test_a_conflict_is_documented_where_one_can_arise(schema):
    customers = schema["paths"]["/api/v1/customers/"]["post"]["responses"]
    assert customers["409"]["content"]["application/json"]["schema"] == ERROR_REF
    assert "409" in schema["paths"]["/api/v1/customers/{id}/"]["patch"]["responses"]


def test_the_error_component_matches_the_error_handlers_body(schema):
    error = error_schema(schema)
    error.validate(error_body(404, code="not_found", message="Not found."))
    error.validate(
        error_body(
            400,
            code="invalid",
            message="Some fields are not valid.",
            fields={"mobile": ["Enter a valid mainland-China mobile number."], "new_property": {"city": ["Required."]}},
        )
    )
    assert not error.is_valid({"error": {"status": 400, "code": "invalid"}, "request_id": "x"})  # no message
    assert not error.is_valid({"error": {"status": 400, "code": "invalid", "message": "m", "fields": {"a": "b"}}})


def test_every_query_parameter_is_described(schema):
    for path, method, operation in operations(schema):
        for parameter in operation.get("parameters", []):
            if "$ref" in parameter or parameter["in"] != "query":
                continue
            description = parameter.get("description", "")
            assert description and not description.startswith("* `"), (method, path, parameter["name"])


def test_no_description_reads_like_a_code_comment(schema):
    def descriptions(node, where):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "description" and isinstance(value, str):
                    yield where, value
                else:
                    yield from descriptions(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from descriptions(value, f"{where}/{index}")

    leaks = [(where, text[:80]) for where, text in descriptions(schema, "") if CODE_COMMENT.search(text)]
    assert not leaks
    # The lead views' docstring, for one, is nowhere.
    assert "Partners create them with" not in json.dumps(schema)


def test_the_main_resources_have_descriptions_and_examples(schema):
    for resource in DOCUMENTED:
        listed = schema["paths"][f"/api/v1/{resource}/"]
        retrieved = schema["paths"][f"/api/v1/{resource}/{{id}}/"]["get"]
        for operation in [listed["get"], retrieved, *([listed["post"]] if "post" in listed else [])]:
            written = operation["description"].split("\n\n")[0]
            assert written and not written.startswith("Needs the"), operation["operationId"]
            success = next(response for code, response in operation["responses"].items() if code < "300")
            assert success["content"]["application/json"].get("examples"), operation["operationId"]
        if "post" in listed:
            assert listed["post"]["requestBody"]["content"]["application/json"].get("examples"), resource


def test_every_example_matches_its_schema(schema):
    for path, method, operation in operations(schema):
        answers = [
            content for response in operation["responses"].values() for content in response.get("content", {}).values()
        ]
        requests = operation.get("requestBody", {}).get("content", {}).values()
        for content, answer in [*((content, True) for content in answers), *((content, False) for content in requests)]:
            check = validator(schema, content["schema"], answer=answer)
            for name, example in content.get("examples", {}).items():
                errors = [error.message for error in check.iter_errors(example["value"])]
                assert not errors, (method, path, name, errors)


def test_a_partners_lead_needs_a_name_and_a_mobile(schema):
    create = schema["paths"]["/api/v1/leads/"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert {"name", "mobile"} <= set(schema["components"]["schemas"][body]["required"])
    # The open lead already there answers 200, a new one 201.
    assert {"200", "201"} <= set(create["responses"])


def test_every_post_takes_an_idempotency_key(schema):
    reference = {"$ref": "#/components/parameters/IdempotencyKey"}
    parameter = schema["components"]["parameters"]["IdempotencyKey"]
    assert parameter["in"] == "header" and parameter["name"] == "Idempotency-Key"
    for rule in ("422", "endpoint", "as the data", "24 hours"):
        assert rule in parameter["description"]
    assert reference in schema["paths"]["/api/v1/leads/"]["post"]["parameters"]
    for path, method, operation in operations(schema):
        assert (reference in operation.get("parameters", [])) == (method == "post"), (method, path)


def test_response_headers_are_components_every_response_refers_to(schema):
    headers = schema["components"]["headers"]
    assert set(headers) >= {"X-Request-ID", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"}
    assert set(headers) >= {"Retry-After", "Idempotent-Replayed", "WWW-Authenticate"}

    def refers(response, name):
        return response["headers"].get(name) == {"$ref": f"#/components/headers/{name}"}

    for path, method, operation in operations(schema):
        for code, response in operation["responses"].items():
            where = (method, path, code)
            assert refers(response, "X-Request-ID"), where
            assert refers(response, "RateLimit-Remaining") == (code != "401"), where
            if code == "429":
                assert refers(response, "Retry-After"), where
            if method == "post" and code.startswith("2"):
                assert refers(response, "Idempotent-Replayed"), where


def test_the_api_answers_as_the_schema_says(client, partner, firm_a, schema):
    error = error_schema(schema)
    leads = "/api/v1/leads/"

    def post(url, body, **headers):
        return client.post(url, body, content_type="application/json", **partner.headers, **headers)

    refused = post(leads, {"name": "王芳"})
    assert refused.status_code == 400
    error.validate(refused.json())
    assert refused.json()["error"]["fields"] == {"mobile": ["Give the customer's name and mobile number."]}
    unknown = client.get(leads, {"stauts": "won"}, **partner.headers)
    assert unknown.status_code == 400
    error.validate(unknown.json())
    missing = client.get(f"{leads}999999/", **partner.headers)
    assert missing.status_code == 404
    error.validate(missing.json())

    first = post(leads, {"name": "王芳", "mobile": "13800138000"}, HTTP_IDEMPOTENCY_KEY="crm-1")
    assert first.status_code == 201
    assert first["X-Request-ID"] and first["RateLimit-Remaining"]
    replayed = post(leads, {"mobile": "13800138000", "name": "王芳"}, HTTP_IDEMPOTENCY_KEY="crm-1")
    assert (replayed.status_code, replayed["Idempotent-Replayed"]) == (201, "true")
    reused = post(leads, {"name": "李雷", "mobile": "13900139000"}, HTTP_IDEMPOTENCY_KEY="crm-1")
    assert reused.status_code == 422
    error.validate(reused.json())
    again = post(leads, {"name": "王芳", "mobile": "13800138000"})
    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])

    with tenant_context(firm_a):
        CustomerFactory(mobile="13700137000")
    conflict = post("/api/v1/customers/", {"name": "王", "mobile": "13700137000"})
    assert conflict.status_code == 409
    error.validate(conflict.json())
    anonymous = client.get(leads)
    assert (anonymous.status_code, anonymous["WWW-Authenticate"]) == (401, "Api-Key")
    error.validate(anonymous.json())
