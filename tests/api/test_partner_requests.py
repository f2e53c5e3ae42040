"""What a partner's repeated requests cost and what they may not skip: the key is looked up once per
process, yet revocation, a switched-off firm and the key's scopes and rate hold from the very next request;
``last_used_at`` is written at most once a minute; the rate limit counts every allowed request in Redis."""

import time
from datetime import date, timedelta
from decimal import Decimal

from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import serializers

from leads.apis import LeadSerializer
from renocrm.api.authentication import known_keys
from renocrm.api.models import ApiKey
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.models import Tenant
from tests.factories import ApiKeyFactory
from tests.leads.factories import CustomerFactory, LeadFactory

URL = "/api/v1/leads/"


def sql_of(client, headers, url=URL):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    assert response.status_code == 200, response.content
    return [query["sql"] for query in queries.captured_queries]


def test_a_known_key_skips_the_lookup_before_the_firm(client, partner):
    known_keys.clear()
    first = sql_of(client, partner.headers)
    again = sql_of(client, partner.headers)
    assert any("app.api_key_prefix" in sql for sql in first)
    assert not any("app.api_key_prefix" in sql for sql in again)
    assert len(again) < len(first)
    # Still read inside the firm's transaction every time: that is where revocation is seen.
    assert sum('FROM "api_apikey"' in sql for sql in again) == 1


def test_a_known_key_revoked_or_whose_firm_is_switched_off_is_refused_at_once(client, partner, firm_a):
    assert client.get(URL, **partner.headers).status_code == 200
    firm_a.status = Tenant.Status.SUSPENDED
    firm_a.save(update_fields=["status"])
    assert client.get(URL, **partner.headers).status_code == 403  # known, and its firm is suspended
    firm_a.status = Tenant.Status.ACTIVE
    firm_a.save(update_fields=["status"])
    assert client.get(URL, **partner.headers).status_code == 200
    with tenant_context(firm_a):
        ApiKey.objects.filter(pk=partner.pk).update(revoked_at=timezone.now())
    assert client.get(URL, **partner.headers).status_code == 401
    assert client.get(URL, **partner.headers).status_code == 401


def test_narrowed_scopes_apply_to_a_known_key_at_once(client, partner, firm_a):
    assert client.get(URL, **partner.headers).status_code == 200
    with tenant_context(firm_a):
        ApiKey.objects.filter(pk=partner.pk).update(scopes=["integrations:read"])
    assert client.get(URL, **partner.headers).status_code == 403


def test_a_firm_change_reaches_a_known_key(client, partner, firm_a):
    assert client.get(URL, **partner.headers).status_code == 200
    firm_a.time_zone = "Europe/Berlin"
    firm_a.save(update_fields=["time_zone"])
    client.get(URL, **partner.headers)  # sees the change and remembers the new row
    response = client.get(URL, **partner.headers)
    assert response.wsgi_request.tenant.time_zone == "Europe/Berlin"


def test_last_used_at_is_written_at_most_once_a_minute(client, partner, firm_a):
    def updates():
        return [sql for sql in sql_of(client, partner.headers) if sql.startswith('UPDATE "api_apikey"')]

    assert len(updates()) == 1
    with tenant_context(firm_a):
        first_use = ApiKey.objects.get(pk=partner.pk).last_used_at
    assert first_use is not None
    assert updates() == [] and updates() == []
    with tenant_context(firm_a):
        ApiKey.objects.filter(pk=partner.pk).update(last_used_at=first_use - timedelta(minutes=2))
    assert len(updates()) == 1
    with tenant_context(firm_a):
        assert ApiKey.objects.get(pk=partner.pk).last_used_at > first_use


def test_the_rate_counts_allowed_requests_in_one_sorted_set_and_frees_up_as_the_window_slides(client, firm_a):
    with tenant_context(firm_a):
        limited = ApiKeyFactory(rate="2/s")
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {limited.raw_key}"}
    codes = [client.get(URL, **headers).status_code for _ in range(4)]
    assert codes == [200, 200, 429, 429]
    store = caches["default"]
    with tenant_context(firm_a):
        key = store.make_key(f"throttle:api-key:{limited.pk}")
    redis = store._cache.get_client(key)
    # Refused requests are not logged: a client that backs off gets its budget back.
    assert redis.zcard(key) == 2
    assert 0 < redis.pttl(key) <= 1000
    time.sleep(1.05)
    assert client.get(URL, **headers).status_code == 200


def test_a_plain_page_skips_the_filters_yet_a_filter_still_narrows_and_a_bad_one_is_refused(client, partner, firm_a):
    with tenant_context(firm_a):
        lead = LeadFactory()
    assert [row["id"] for row in client.get(URL, {"page_size": 5}, **partner.headers).json()["results"]] == [lead.pk]
    assert client.get(URL, {"status": "nonsense"}, **partner.headers).status_code == 400
    assert client.get(URL, {"page_size": 5, "status": "won"}, **partner.headers).json()["results"] == []
    assert len(client.get(URL, {"status": lead.status}, **partner.headers).json()["results"]) == 1


def test_the_lead_answer_is_exactly_what_drf_would_write(partner, firm_a, rf):
    with tenant_context(firm_a):
        referrer = CustomerFactory()
        full = LeadFactory(
            channel="referral",
            referrer=referrer,
            budget_min=Decimal("150000.5"),
            budget_max=Decimal("300000"),
            next_follow_up_on=date(2026, 3, 20),
            household="two adults, a cat",
        )
        full.linked_existing_customer = True
        plain = LeadFactory()
        request = rf.get(URL)
        for lead in (full, plain):
            serializer = LeadSerializer(lead, context={"request": request})
            assert serializer.data == serializers.ModelSerializer.to_representation(serializer, lead)
        assert LeadSerializer(full).data["budget_min"] == "150000.50"
        assert LeadSerializer(full).data["referrer"] == referrer.pk
        assert LeadSerializer(full).data["linked_existing_customer"] is True
