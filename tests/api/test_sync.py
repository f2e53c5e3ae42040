"""Incremental sync: every list reads ``updated_after`` and pages by ``ordering=updated_at`` on a
``(updated_at, id)`` cursor; ``updated_at`` moves on any change of the row, bulk updates included; the
deletions feed lists what was deleted or erased, as type, id and time, for the types the caller may read."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from renocrm.tenancy.context import tenant_context
from tests.factories import ApiKeyFactory
from tests.leads.factories import CustomerFactory, LeadFactory, PropertyFactory

pytestmark = pytest.mark.django_db

LEADS = "/api/v1/leads/"
DELETIONS = "/api/v1/deletions/"


@pytest.fixture
def key(firm_a):
    with tenant_context(firm_a):
        return ApiKeyFactory()


def _get(client, key, path, params=None):
    return client.get(path, params or {}, HTTP_AUTHORIZATION=f"Api-Key {key.raw_key}")


def _set_updated_at(model, pk, when):
    # An UPDATE that sets updated_at itself keeps it (the trigger only stamps statements that do not).
    model.objects.filter(pk=pk).update(updated_at=when)


def test_a_bulk_update_moves_updated_at_and_an_explicit_one_is_kept(firm_a):
    from leads.models import Lead

    with tenant_context(firm_a):
        lead = LeadFactory()
        long_ago = timezone.now() - timedelta(days=30)
        _set_updated_at(Lead, lead.pk, long_ago)
        assert Lead.objects.get(pk=lead.pk).updated_at == long_ago
        Lead.objects.filter(pk=lead.pk).update(core_needs="a bigger kitchen")  # names no updated_at
        assert Lead.objects.get(pk=lead.pk).updated_at > long_ago + timedelta(days=29)


def test_every_list_row_says_when_it_last_changed(client, firm_a, key):
    with tenant_context(firm_a):
        lead = LeadFactory()
    row = _get(client, key, LEADS).json()["results"][0]
    assert row["id"] == lead.pk and row["updated_at"]


def test_updated_after_is_inclusive_and_needs_an_offset(client, firm_a, key):
    from leads.models import Lead

    now = timezone.now().replace(microsecond=0)
    with tenant_context(firm_a):
        old, edge, new = LeadFactory(), LeadFactory(), LeadFactory()
        for lead, when in ((old, now - timedelta(hours=2)), (edge, now - timedelta(hours=1)), (new, now)):
            _set_updated_at(Lead, lead.pk, when)
    since = (now - timedelta(hours=1)).isoformat()
    found = {row["id"] for row in _get(client, key, LEADS, {"updated_after": since}).json()["results"]}
    assert found == {edge.pk, new.pk}
    # "+08:00" left unencoded in a query string arrives as a space: read as the offset it was.
    local = (now - timedelta(hours=1)).astimezone(timezone.get_fixed_timezone(480)).isoformat()
    raw = client.get(f"{LEADS}?updated_after={local}", HTTP_AUTHORIZATION=f"Api-Key {key.raw_key}")
    assert {row["id"] for row in raw.json()["results"]} == {edge.pk, new.pk}
    for bad in ("2026-12-01T08:00:00", "yesterday", "2026-13-01T00:00:00Z", "0391-05-12T04:44:26-21:13"):
        refused = _get(client, key, LEADS, {"updated_after": bad})
        assert refused.status_code == 400, bad
        assert "updated_after" in refused.json()["error"]["fields"]


def test_the_sync_ordering_pages_oldest_change_first_and_a_change_while_paging_skips_nothing(client, firm_a, key):
    from leads.models import Lead

    start = timezone.now() - timedelta(days=1)
    with tenant_context(firm_a):
        leads = [LeadFactory() for _ in range(7)]
        # Two share a time: the id breaks the tie.
        for n, lead in enumerate(leads):
            _set_updated_at(Lead, lead.pk, start + timedelta(minutes=min(n, 5)))
    seen, path, pages = [], f"{LEADS}?ordering=updated_at&page_size=3", 0
    while path:
        answer = _get(client, key, path).json()
        assert answer["previous"] is None
        seen += [(row["id"], row["updated_at"]) for row in answer["results"]]
        path, pages = answer["next"], pages + 1
        if pages == 1:
            # The first lead read changes while the mirror pages: it comes again, later, and nothing is skipped.
            with tenant_context(firm_a):
                Lead.objects.filter(pk=leads[0].pk).update(core_needs="changed while paging")
    ids = [pk for pk, _ in seen]
    assert ids[:7] == [lead.pk for lead in leads]
    assert ids[7:] == [leads[0].pk] and pages == 3
    times = [when for _, when in seen]
    assert times == sorted(times)


def test_the_sync_ordering_refuses_what_it_cannot_read(client, firm_a, key):
    for params, field in (
        ({"ordering": "-updated_at"}, "ordering"),
        ({"ordering": "updated_at", "cursor": "bm90IGEgY3Vyc29y"}, "cursor"),
        ({"ordering": "updated_at", "cursor": "%%%"}, "cursor"),
        # A position no cursor hands out: an offset no clock uses.
        ({"ordering": "updated_at", "cursor": "MDM5MS0wNS0xMlQwNDo0NDoyNi0yMToxM3w1"}, "cursor"),
        ({"updated_since": "2026-12-01T00:00:00Z"}, "updated_since"),  # unknown, never ignored
    ):
        refused = _get(client, key, LEADS, params)
        assert refused.status_code == 400, params
        assert field in refused.json()["error"]["fields"], refused.json()


def test_a_deleted_record_is_in_the_feed_with_its_type_id_and_time_only(client, firm_a, key):
    from renocrm.outbox.models import WebhookEndpoint
    from tests.outbox.factories import WebhookEndpointFactory

    with tenant_context(firm_a):
        endpoint = WebhookEndpointFactory()
    gone = client.delete(f"/api/v1/webhooks/{endpoint.pk}/", HTTP_AUTHORIZATION=f"Api-Key {key.raw_key}")
    assert gone.status_code == 204, gone.content
    with tenant_context(firm_a):
        assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    rows = _get(client, key, DELETIONS, {"type": "webhooks"}).json()["results"]
    assert [(row["type"], row["id"], row["reason"]) for row in rows] == [("webhooks", endpoint.pk, "deleted")]
    assert set(rows[0]) == {"type", "id", "reason", "deleted_at"}


def test_an_erased_customer_and_their_homes_leave_the_mirror(client, firm_a, key):
    from leads.services.privacy import customer_erase

    with tenant_context(firm_a):
        customer = CustomerFactory(name="王芳")
        home = PropertyFactory(customer=customer)
        customer_erase(customer=customer)
        customer_erase(customer=customer)  # a second erasure records nothing more
    rows = _get(client, key, DELETIONS, {"ordering": "updated_at"}).json()["results"]
    assert sorted((row["type"], row["id"], row["reason"]) for row in rows) == [
        ("customers", customer.pk, "erased"),
        ("properties", home.pk, "erased"),
    ]
    assert "王芳" not in str(rows)


def test_the_feed_shows_only_the_types_the_caller_may_read(client, firm_a, firm_b):
    from tests.factories import DeletionFactory

    with tenant_context(firm_a):
        DeletionFactory(resource="leads", object_id=41)
        DeletionFactory(resource="contracts", object_id=42)
        contracts_only = ApiKeyFactory(scopes=["contracts:read"])
        no_reads = ApiKeyFactory(scopes=["leads:write"])
    with tenant_context(firm_b):
        DeletionFactory(resource="contracts", object_id=43)
    rows = _get(client, contracts_only, DELETIONS).json()["results"]
    assert [(row["type"], row["id"]) for row in rows] == [("contracts", 42)]
    assert _get(client, no_reads, DELETIONS).status_code == 403


def test_deleting_rows_records_them_through_the_database_whatever_deletes_them(firm_a):
    from renocrm.api.models import Deletion
    from renocrm.outbox.models import WebhookEndpoint
    from tests.outbox.factories import WebhookEndpointFactory

    with tenant_context(firm_a):
        endpoints = [WebhookEndpointFactory() for _ in range(3)]
        WebhookEndpoint.objects.filter(pk__in=[e.pk for e in endpoints[:2]]).delete()
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM outbox_webhookendpoint WHERE id = %s", [endpoints[2].pk])
        recorded = set(Deletion.objects.values_list("resource", "object_id"))
    assert recorded == {("webhooks", endpoint.pk) for endpoint in endpoints}
