"""The audit log and the privacy log as a firm owner reads them: records and fields by their names, values in
words, times in the firm's zone, links to the records' pages, and a page that costs the same whatever it
mentions."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from leads.models import FollowUp, Lead
from renocrm.audit.models import AuditEvent
from renocrm.audit.records import RecordNames, model_for_table, show_value
from renocrm.tenancy.context import tenant_context
from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.leads.factories import CustomerFactory, FollowUpFactory, LeadFactory
from tests.privacy.factories import ContactRevealFactory, DataRequestFactory


@pytest.fixture
def firm(db):
    return TenantFactory(name="Bright Home", slug="bright-home", language="en", time_zone="Asia/Shanghai")


@pytest.fixture
def admin(firm):
    return MembershipFactory(tenant=firm, user=UserFactory(username="wang", name="Wang Fang")).user


@pytest.fixture
def sales(firm):
    return MembershipFactory(tenant=firm, role="sales", user=UserFactory(username="li", name="Li Lei")).user


@pytest.fixture
def reader(admin):
    client = Client()
    client.force_login(admin)
    return client


def rows(response):
    return {event.pk: event for event in response.context["page"].events}


def newest(response, table, action):
    return next(e for e in response.context["page"].events if e.table_name == table and e.action == action)


def test_an_update_names_the_record_its_fields_and_the_people_in_it(firm, admin, sales, reader):
    with tenant_context(firm, user_id=admin.pk):
        lead = LeadFactory(customer=CustomerFactory(name="Zhang Wei"))
        Lead.objects.filter(pk=lead.pk).update(assigned_to=sales, status=Lead.Status.CONTACTED)

    response = reader.get("/audit/", {"table": "leads_lead"})

    event = newest(response, "leads_lead", AuditEvent.Action.UPDATE)
    assert str(event.record) == "Lead Zhang Wei" and event.record.url == f"/leads/{lead.pk}/"
    changes = {change.field: change for change in event.changed_fields}
    assert (changes["assigned_to_id"].label, changes["assigned_to_id"].old, changes["assigned_to_id"].new) == (
        "Customer manager",
        None,
        "Li Lei",
    )
    assert (changes["status"].label, changes["status"].old, changes["status"].new) == ("Status", "New", "Contacted")
    html = response.content.decode()
    assert f'<a href="/leads/{lead.pk}/">Lead Zhang Wei</a>' in html
    assert "<del>New</del> → <ins>Contacted</ins>" in html
    assert "Wang Fang" in html  # who did it
    assert "leads_lead" not in html.split('id="audit-rows"')[1]  # no table names in the rows
    assert "assigned_to_id" not in html.split('id="audit-rows"')[1].replace('title="assigned_to_id"', "")


def test_a_child_record_links_to_the_page_it_is_shown_on(firm, admin, reader):
    with tenant_context(firm, user_id=admin.pk):
        follow_up = FollowUpFactory(kind=FollowUp.Kind.VISIT, at=datetime(2026, 3, 2, 1, 30, tzinfo=ZoneInfo("UTC")))

    event = newest(reader.get("/audit/", {"table": "leads_followup"}), "leads_followup", AuditEvent.Action.INSERT)

    assert event.record.url == f"/leads/{follow_up.lead_id}/"
    changes = {change.field: change for change in event.changed_fields}
    assert changes["kind"].new == "Visit"
    assert changes["at"].new == "2026-03-02 09:30"  # the firm's time, not UTC
    assert changes["lead_id"].new_url == f"/leads/{follow_up.lead_id}/"


def test_a_deleted_record_is_named_from_the_trail_without_a_dead_link(firm, admin, reader):
    with tenant_context(firm, user_id=admin.pk):
        customer = CustomerFactory(name="Chen Jing")
        customer.delete()

    event = newest(reader.get("/audit/", {"table": "leads_customer"}), "leads_customer", AuditEvent.Action.DELETE)

    assert str(event.record) == "Customer Chen Jing" and event.record.url == ""


def test_a_quotation_line_names_its_version_and_links_to_it(firm, admin, reader):
    from tests.contracts.factories import QuotationItemFactory

    with tenant_context(firm, user_id=admin.pk):
        item = QuotationItemFactory(version__quotation__title="Kitchen and bath")

    event = newest(reader.get("/audit/"), "contracts_quotationitem", AuditEvent.Action.INSERT)

    version = {change.field: change for change in event.changed_fields}["version_id"]
    assert (version.new, version.new_url) == (
        f"Kitchen and bath v{item.version.number}",
        f"/contracts/versions/{item.version_id}/",
    )
    assert event.record.url == f"/contracts/versions/{item.version_id}/"


def test_values_in_words():
    with translation.override("en"):
        names = RecordNames()
        lead = model_for_table("leads_lead")
        assert show_value(lead, "channel", "referral", names).text == "Referral by a customer"
        assert show_value(model_for_table("api_apikey"), "revoked_at", None, names).text is None
        assert show_value(model_for_table("worksites_phase"), "requires_acceptance", True, names).text == "Yes"
        assert show_value(lead, "no_such_column", {"a": 1}, names).text == '{"a": 1}'
        assert show_value(lead, "budget_max", "9" * 300, names).text.endswith("…")


def test_the_kind_filter_lists_records_by_name_and_still_filters(firm, admin, reader):
    with tenant_context(firm, user_id=admin.pk):
        LeadFactory()

    response = reader.get("/audit/", {"table": "leads_customer"})

    choices = dict(response.context["form"].fields["table"].choices)
    assert choices["leads_customer"] == "Customer" and choices["leads_lead"] == "Lead"
    assert {event.table_name for event in response.context["page"].events} == {"leads_customer"}


def test_the_page_costs_the_same_whatever_kinds_of_record_it_names(firm, admin, sales, reader):
    with tenant_context(firm, user_id=admin.pk):
        LeadFactory()
    with CaptureQueriesContext(connection) as few:
        reader.get("/audit/")

    with tenant_context(firm, user_id=admin.pk):
        for _ in range(3):
            follow_up = FollowUpFactory(by=sales)
            Lead.objects.filter(pk=follow_up.lead_id).update(assigned_to=sales, designer=admin)
            DataRequestFactory(subject_id=str(follow_up.lead.customer_id), requested_by=admin)
    with CaptureQueriesContext(connection) as many:
        response = reader.get("/audit/")

    assert len({event.table_name for event in response.context["page"].events}) >= 4
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_privacy_log_names_customers_and_fields_with_links(firm, admin, reader):
    with tenant_context(firm, user_id=admin.pk):
        customer = CustomerFactory(name="Zhao Min")
        DataRequestFactory(subject_id=str(customer.pk), requested_by=admin)
        ContactRevealFactory(user=admin, record_id=str(customer.pk), field="mobile")
        ContactRevealFactory(user=admin, record_id="999999", field="mobile")  # a customer no longer there

    response = reader.get("/privacy/")

    html = response.content.decode()
    assert f'<a href="/leads/customers/{customer.pk}/">Customer Zhao Min</a>' in html
    reveals = response.context["reveals"]
    assert [reveal.field_label for reveal in reveals] == ["Mobile", "Mobile"]
    assert str(reveals[0].record) == "Customer #999999" and reveals[0].record.url == ""
    assert "leads.customer" not in html


def test_another_firms_record_is_never_named(firm, admin, reader):
    other = TenantFactory(name="Other", slug="other", language="en")
    with tenant_context(other):
        stranger = CustomerFactory(name="Secret Name")
    with tenant_context(firm, user_id=admin.pk):
        DataRequestFactory(subject_id=str(stranger.pk), requested_by=admin)

    html = reader.get("/privacy/").content.decode()

    assert "Secret Name" not in html and f"Customer #{stranger.pk}" in html
