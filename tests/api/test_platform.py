import json

import pytest
from django.db import connection
from django.utils import timezone

from renocrm.api.models import ApiKey
from renocrm.tenancy.context import tenant_context
from tests.factories import ApiKeyFactory, MembershipFactory

AUDIT_URL = "/api/v1/audit-events/"
KEYS_URL = "/api/v1/api-keys/"


def error(response):
    body = response.json()
    assert set(body) == {"error", "request_id"}
    assert body["request_id"] == response["X-Request-ID"]
    return body["error"]


def test_unknown_api_key_is_401_with_the_error_body(client, db):
    response = client.get(AUDIT_URL, HTTP_AUTHORIZATION="Api-Key rck_000000000000_nope")
    assert response.status_code == 401
    assert error(response)["code"] == "authentication_failed"
    assert response["WWW-Authenticate"] == "Api-Key"


def test_no_credentials_is_401(client, db):
    response = client.get(AUDIT_URL)
    assert response.status_code == 401
    assert error(response)["code"] == "not_authenticated"


def test_revoked_key_is_401(client, partner, firm_a):
    assert client.get(AUDIT_URL, **partner.headers).status_code == 200
    with tenant_context(firm_a):
        ApiKey.objects.filter(pk=partner.pk).update(revoked_at=timezone.now())
    response = client.get(AUDIT_URL, **partner.headers)
    assert response.status_code == 401


# Served for real, a request whose firm is not resolved runs in no transaction (only the firm's requests do);
# these run the same way, without the test's wrapping transaction.
@pytest.mark.django_db(transaction=True)
def test_every_credential_failure_is_401_with_the_error_body(client, firm_a):
    from renocrm.api.authentication import known_keys

    with tenant_context(firm_a):
        key = ApiKeyFactory()
    refused = {
        "no header": None,
        "bearer": "Bearer abc.def.ghi",
        "basic": "Basic dXNlcjpwYXNz",
        "garbage": "garbage",
        "keyword alone": "Api-Key",
        "unknown key": "Api-Key rck_000000000000_nope",
        "malformed key": "Api-Key rck_not-hex_x",
        "not a key": "Api-Key something",
    }
    client.raise_request_exception = False
    for case, authorization in refused.items():
        headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
        response = client.get(AUDIT_URL, **headers)
        assert response.status_code == 401, case
        assert error(response)["code"] in ("not_authenticated", "authentication_failed"), case
        assert response["WWW-Authenticate"] == "Api-Key", case

    headers = {"HTTP_AUTHORIZATION": f"Api-Key {key.raw_key}"}
    assert client.get(AUDIT_URL, **headers).status_code == 200  # now remembered by this process
    with tenant_context(firm_a):
        ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    cached = client.get(AUDIT_URL, **headers)
    assert cached.status_code == 401 and error(cached)["code"] == "authentication_failed"
    known_keys.clear()
    looked_up = client.get(AUDIT_URL, **headers)
    assert looked_up.status_code == 401 and error(looked_up)["code"] == "authentication_failed"
    assert looked_up["WWW-Authenticate"] == "Api-Key"


@pytest.mark.django_db(transaction=True)
def test_signed_in_user_without_a_firm_is_403_with_the_error_body(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    client.raise_request_exception = False
    response = client.get(AUDIT_URL)
    assert response.status_code == 403
    assert error(response)["code"] == "permission_denied"


@pytest.mark.parametrize("debug", [False, True])
def test_unknown_api_address_is_404_with_the_error_body_whatever_debug(client, partner, settings, debug):
    settings.DEBUG = debug
    for path in ("/api/v1/no-such-thing/", "/api/v1/leads/abc/", "/api/v2/leads/", "/api/nothing"):
        response = client.get(path, **partner.headers)
        assert response.status_code == 404, path
        assert error(response)["code"] == "not_found", path


@pytest.mark.parametrize("debug", [False, True])
def test_post_without_the_trailing_slash_is_404_naming_the_address(client, partner, firm_a, settings, debug):
    from leads.models import Lead

    settings.DEBUG = debug
    body = {"name": "王先生", "mobile": "13900001111", "channel": "online"}
    response = client.post("/api/v1/leads", body, content_type="application/json", **partner.headers)
    assert response.status_code == 404
    assert "/api/v1/leads/" in error(response)["message"]
    with tenant_context(firm_a):
        assert not Lead.objects.exists()
    # A read is still redirected, as before.
    redirected = client.get("/api/v1/leads?status=new", **partner.headers)
    assert redirected.status_code == 301 and redirected["Location"] == "/api/v1/leads/?status=new"


def test_unacceptable_accept_and_unsupported_content_type_use_the_error_body(client, partner):
    refused = client.get(AUDIT_URL, HTTP_ACCEPT="application/xml", **partner.headers)
    assert refused.status_code == 406
    assert error(refused)["code"] == "not_acceptable"
    unsupported = client.post(KEYS_URL, "<key/>", content_type="application/xml", **partner.headers)
    assert unsupported.status_code == 415
    assert error(unsupported)["code"] == "unsupported_media_type"


def test_scopes_decide_read_and_write(client, firm_a):
    with tenant_context(firm_a):
        reader = ApiKeyFactory(scopes=["integrations:read"])
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {reader.raw_key}"}
    assert client.get(KEYS_URL, **headers).status_code == 200
    response = client.post(
        KEYS_URL, {"name": "x", "scopes": ["leads:read"]}, content_type="application/json", **headers
    )
    assert response.status_code == 403
    assert error(response)["code"] == "permission_denied"
    # No audit scope at all: reading the audit log is refused too.
    assert client.get(AUDIT_URL, **headers).status_code == 403


def test_key_is_shown_once_and_only_its_digest_is_stored(staff_client, firm_a):
    response = staff_client.post(
        KEYS_URL, {"name": "ERP", "scopes": ["leads:read", "leads:write"]}, content_type="application/json"
    )
    assert response.status_code == 201
    raw_key = response.json()["key"]
    with tenant_context(firm_a):
        stored = ApiKey.objects.get(pk=response.json()["id"])
    assert raw_key not in (stored.hashed_key, stored.prefix)
    assert "key" not in staff_client.get(f"{KEYS_URL}{stored.pk}/").json()
    # The key works for what it was given, and nothing else.
    assert staff_client.get(AUDIT_URL, HTTP_AUTHORIZATION=f"Api-Key {raw_key}").status_code == 403


def test_revoking_through_the_api_locks_the_key_out(staff_client, partner):
    response = staff_client.post(f"{KEYS_URL}{partner.pk}/revoke/")
    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None
    assert staff_client.get(AUDIT_URL, **partner.headers).status_code == 401


def test_sales_role_cannot_manage_keys(client, firm_a):
    membership = MembershipFactory(tenant=firm_a, role="sales")
    client.force_login(membership.user)
    assert client.get(KEYS_URL).status_code == 403


def test_throttle_per_key_answers_429_with_retry_after(client, firm_a):
    with tenant_context(firm_a):
        limited = ApiKeyFactory(rate="3/min")
        other = ApiKeyFactory(rate="3/min")
    # New keys: their counters start empty (cache keys carry this test process's prefix, never shared).
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {limited.raw_key}"}
    codes = [client.get(AUDIT_URL, **headers).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = client.get(AUDIT_URL, **headers)
    assert error(response)["code"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= 60
    # Another key of the same firm has its own budget.
    assert client.get(AUDIT_URL, HTTP_AUTHORIZATION=f"Api-Key {other.raw_key}").status_code == 200


def test_every_answer_to_a_key_carries_its_rate_limit(client, firm_a):
    with tenant_context(firm_a):
        limited = ApiKeyFactory(rate="3/min", scopes=["audit:read"])
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {limited.raw_key}"}
    answers = [client.get(AUDIT_URL, **headers) for _ in range(3)]
    answers.append(client.get("/api/v1/leads/", **headers))  # a refused scope is counted and told too
    answers.append(client.get(AUDIT_URL, **headers))
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429, 429]
    assert [answer["RateLimit-Limit"] for answer in answers] == ["3"] * 5
    assert [answer["RateLimit-Remaining"] for answer in answers] == ["2", "1", "0", "0", "0"]
    assert all(0 < int(answer["RateLimit-Reset"]) <= 60 for answer in answers)
    assert int(answers[-1]["RateLimit-Reset"]) == int(answers[-1]["Retry-After"])
    # A signed-in member is not counted per key: no such headers.
    member = MembershipFactory(tenant=firm_a, role="admin")
    client.force_login(member.user)
    assert "RateLimit-Limit" not in client.get(AUDIT_URL)


def post_key(client, headers, body, key):
    return client.post(KEYS_URL, json.dumps(body), content_type="application/json", HTTP_IDEMPOTENCY_KEY=key, **headers)


def test_idempotent_post_replays_and_creates_once(client, partner, firm_a):
    body = {"name": "retry me", "scopes": ["leads:read"]}
    first = post_key(client, partner.headers, body, "abc-1")
    second = post_key(client, partner.headers, body, "abc-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    with tenant_context(firm_a):
        assert ApiKey.objects.filter(name="retry me").count() == 1
    # The same key with a different body is refused; a new key creates a new object.
    assert post_key(client, partner.headers, {**body, "name": "other"}, "abc-1").status_code == 422
    assert post_key(client, partner.headers, body, "abc-2").status_code == 201
    with tenant_context(firm_a):
        assert ApiKey.objects.filter(name="retry me").count() == 2


def test_a_retry_of_the_same_json_in_another_order_or_spacing_is_the_same_request(client, partner, firm_a):
    first = client.post(
        KEYS_URL,
        '{"name": "retry me", "scopes": ["leads:read"]}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="order-1",
        **partner.headers,
    )
    again = client.post(
        KEYS_URL,
        '{"scopes":["leads:read"],\n  "name":"retry me"}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="order-1",
        **partner.headers,
    )
    assert first.status_code == again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert first.json() == again.json()
    # The order of a list is data: another order is another request.
    body = {"name": "listed", "scopes": ["leads:write", "leads:read"]}
    assert post_key(client, partner.headers, body, "order-2").status_code == 201
    assert post_key(client, partner.headers, {**body, "scopes": body["scopes"][::-1]}, "order-2").status_code == 422
    with tenant_context(firm_a):
        assert ApiKey.objects.filter(name="retry me").count() == 1


def test_an_idempotency_key_is_per_endpoint(client, partner, firm_a):
    created = post_key(client, partner.headers, {"name": "one key, two addresses", "scopes": ["leads:read"]}, "k-1")
    assert created.status_code == 201
    revoked = client.post(
        f"{KEYS_URL}{created.json()['id']}/revoke/",
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-1",
        **partner.headers,
    )
    assert revoked.status_code == 200 and "Idempotent-Replayed" not in revoked
    with tenant_context(firm_a):
        assert ApiKey.objects.get(pk=created.json()["id"]).revoked_at is not None


def test_idempotency_keys_are_per_firm(client, partner, firm_b):
    with tenant_context(firm_b):
        partner_b = ApiKeyFactory()
    body = {"name": "same key", "scopes": ["leads:read"]}
    a = post_key(client, partner.headers, body, "shared")
    b = post_key(client, {"HTTP_AUTHORIZATION": f"Api-Key {partner_b.raw_key}"}, body, "shared")
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]
    assert "Idempotent-Replayed" not in b


def test_malformed_body_is_400_with_field_errors_and_writes_nothing(client, partner, firm_a):
    with tenant_context(firm_a):
        before = ApiKey.objects.count()
    response = client.post(
        KEYS_URL, {"name": "", "scopes": ["nope"], "rate": "fast"}, content_type="application/json", **partner.headers
    )
    assert response.status_code == 400
    fields = error(response)["fields"]
    assert set(fields) == {"name", "scopes", "rate"}
    with tenant_context(firm_a):
        assert ApiKey.objects.count() == before


def test_invalid_json_is_400(client, partner):
    response = client.post(KEYS_URL, "{not json", content_type="application/json", **partner.headers)
    assert response.status_code == 400
    assert error(response)["code"] == "parse_error"


def test_mass_assignment_changes_nothing_protected(client, partner, firm_a, firm_b):
    response = client.post(
        KEYS_URL,
        {
            "name": "sneaky",
            "scopes": ["leads:read"],
            "tenant": firm_b.pk,
            "id": 999999,
            "prefix": "chosen",
            "revoked_at": "2020-01-01T00:00:00Z",
            "created_at": "2020-01-01T00:00:00Z",
        },
        content_type="application/json",
        **partner.headers,
    )
    assert response.status_code == 201
    data = response.json()
    assert data["id"] != 999999 and data["prefix"] != "chosen" and data["revoked_at"] is None
    with tenant_context(firm_a):
        stored = ApiKey.objects.get(pk=data["id"])
    assert stored.tenant_id == firm_a.pk
    assert stored.created_at.year == timezone.now().year


def test_unknown_api_route_and_wrong_method_use_the_error_body(client, partner):
    missing = client.get("/api/v1/no-such-thing/", **partner.headers)
    assert missing.status_code == 404
    assert error(missing)["code"] == "not_found"
    wrong = client.put(f"{AUDIT_URL}1/", {}, content_type="application/json", **partner.headers)
    assert wrong.status_code == 405
    assert error(wrong)["code"] == "method_not_allowed"


def test_audit_api_shows_who_changed_what(staff_client, firm_a):
    with tenant_context(firm_a, user_id=staff_client.membership.user_id):
        key = ApiKeyFactory(name="before")
        ApiKey.objects.filter(pk=key.pk).update(name="after")  # a bulk update is audited too
    events = staff_client.get(AUDIT_URL, {"table_name": "api_apikey", "row_id": key.pk}).json()["results"]
    assert [event["action"] for event in events] == ["update", "insert"]
    assert events[0]["changes"] == {"name": ["before", "after"]}
    assert events[0]["actor"] == staff_client.membership.user_id


def test_audit_log_is_append_only_for_the_application(staff_client, firm_a):
    from django.db import transaction
    from django.db.utils import ProgrammingError

    with tenant_context(firm_a):
        ApiKeyFactory()
        for statement in ("DELETE FROM audit_auditevent", "UPDATE audit_auditevent SET changes = '{}'"):
            with pytest.raises(ProgrammingError), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement)


@pytest.mark.django_db
def test_schema_generates_without_warnings():
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert "/api/v1/api-keys/" in schema["paths"]
    assert not GENERATOR_STATS._warn_cache, list(GENERATOR_STATS._warn_cache)
    assert not GENERATOR_STATS._error_cache, list(GENERATOR_STATS._error_cache)
