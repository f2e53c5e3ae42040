"""Contact details are masked on every channel for a caller without the contact permission — free text in API
answers, the customer's other contacts, the audit trail through the API and on its page — and an API read with
the permission is recorded as a reveal, per key, in one statement per answer."""

import importlib
import inspect
import pkgutil

import pytest
from django.db import IntegrityError, connection, models, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers

from renocrm.accounts import roles
from renocrm.privacy.masking import mask_audit_changes, mask_contacts, mask_text
from renocrm.privacy.models import ContactReveal
from renocrm.privacy.serializers import MaskedContactsMixin
from renocrm.tenancy.context import tenant_context
from tests.complaints.factories import ComplaintFactory
from tests.factories import ApiKeyFactory, MembershipFactory
from tests.leads.factories import CustomerFactory, FollowUpFactory, LeadFactory, PropertyFactory

MOBILE = "13812341234"
SPOUSE = "13900001111"
ADDRESS = "上海市浦东新区世纪大道100号3栋1201"
OTHER_CONTACTS = f"微信 wang_fang88\n妻子 {SPOUSE[:3]} {SPOUSE[3:7]} {SPOUSE[7:]}"
NOTES = f"业主说晚上打 +86 {MOBILE[:3]}-{MOBILE[3:7]}-{MOBILE[7:]}，合同号 2026110512345678"


# Masking of free text ----------------------------------------------------------------------------------------


def test_mobile_numbers_in_text_are_masked_in_groups_and_with_the_country_code():
    assert mask_text("call 138 1234 5678 or 138-1234-5678") == "call 138****5678 or 138****5678"
    assert mask_text("+86 13812345678, 0086-139 1234 5678, 8613712345678") == (
        "+86 138****5678, 0086-139****5678, 86137****5678"
    )
    # Longer digit runs (an order number, an id) are not phone numbers.
    assert mask_text("order 2026113812341234, id 86138123456789") == "order 2026113812341234, id 86138123456789"


def test_other_contacts_keep_their_labels_and_lose_every_id():
    assert mask_contacts(OTHER_CONTACTS) == "微信 wa****\n妻子 139****1111"
    assert mask_contacts("QQ 12345678; a.b@example.cn") == "QQ 12****; a.****"
    assert mask_contacts("") == ""


def test_audit_values_of_contact_columns_are_masked_whole_and_mobiles_inside_other_text():
    changes = {
        "mobile": [MOBILE, SPOUSE],
        "other_contacts": OTHER_CONTACTS,
        "notes": NOTES,
        "name": "王芳",
        "birthday": None,
    }
    masked = mask_audit_changes("leads_customer", changes)
    assert masked == {
        "mobile": ["138****1234", "139****1111"],
        "other_contacts": "微信 wa****\n妻子 139****1111",
        "notes": "业主说晚上打 +86 138****1234，合同号 2026110512345678",
        "name": "王芳",
        "birthday": None,
    }
    assert mask_audit_changes("leads_property", {"address": ADDRESS}) == {"address": "上海市浦东新****"}
    # Any other table: mobiles inside text, lists and objects.
    assert mask_audit_changes("outbox_notification", {"recipient": MOBILE, "meta": {"to": [MOBILE]}}) == {
        "recipient": "138****1234",
        "meta": {"to": ["138****1234"]},
    }


# API answers -------------------------------------------------------------------------------------------------


@pytest.fixture
def customer(firm_a):
    with tenant_context(firm_a):
        customer = CustomerFactory(name="王芳", mobile=MOBILE, other_contacts=OTHER_CONTACTS, notes=NOTES)
        PropertyFactory(customer=customer, address=ADDRESS)
        lead = LeadFactory(customer=customer, core_needs=f"老人同住，女儿电话 {SPOUSE}")
        FollowUpFactory(lead=lead, outcome=f"约了周六量房，备用号 {SPOUSE}")
    return customer


def key_headers(firm, scopes, name="partner"):
    with tenant_context(firm):
        key = ApiKeyFactory(scopes=scopes, name=name)
    return key, {"HTTP_AUTHORIZATION": f"Api-Key {key.raw_key}"}


def test_a_key_without_the_contacts_scope_gets_other_contacts_notes_and_free_text_masked(client, firm_a, customer):
    _key, headers = key_headers(firm_a, ["leads:read", "audit:read"])

    answers = [
        client.get(f"/api/v1/customers/{customer.pk}/", **headers),
        client.get("/api/v1/customers/", **headers),
        client.get("/api/v1/leads/", **headers),
        client.get("/api/v1/follow-ups/", **headers),
        client.get("/api/v1/audit-events/", **headers),
    ]

    assert all(answer.status_code == 200 for answer in answers), [a.content for a in answers]
    body = answers[0].json()
    assert body["other_contacts"] == "微信 wa****\n妻子 139****1111"
    assert body["notes"] == "业主说晚上打 +86 138****1234，合同号 2026110512345678"
    assert answers[2].json()["results"][0]["core_needs"] == "老人同住，女儿电话 139****1111"
    assert answers[3].json()["results"][0]["outcome"] == "约了周六量房，备用号 139****1111"
    for answer in answers:
        text = answer.content.decode()
        for secret in (MOBILE, SPOUSE, "1234-1234", "0000 1111", "wang_fang88", ADDRESS):
            assert secret not in text, (answer.request["PATH_INFO"], secret)
    # The audit trail says a customer and a property were created, masked.
    events = {event["table_name"]: event for event in answers[4].json()["results"]}
    assert events["leads_customer"]["changes"]["mobile"] == "138****1234"
    assert events["leads_property"]["changes"]["address"] == "上海市浦东新****"
    with tenant_context(firm_a):
        assert not ContactReveal.objects.exists()


def test_complaint_descriptions_are_masked_for_a_key_without_the_contacts_scope(client, firm_a):
    with tenant_context(firm_a):
        ComplaintFactory(description=f"业主投诉漏水，回电 {MOBILE}")
    _key, masked = key_headers(firm_a, ["complaints:read"])
    _key, full = key_headers(firm_a, ["complaints:read", "contacts:read"])
    assert client.get("/api/v1/complaints/", **masked).json()["results"][0]["description"] == (
        "业主投诉漏水，回电 138****1234"
    )
    assert client.get("/api/v1/complaints/", **full).json()["results"][0]["description"].endswith(MOBILE)


def test_audit_events_through_the_api_never_show_a_keys_digest(client, firm_a):
    _key, headers = key_headers(firm_a, ["audit:read", "contacts:read"])
    events = client.get("/api/v1/audit-events/?table_name=api_apikey", **headers).json()["results"]
    assert events and all(event["changes"]["hashed_key"] == "••••••" for event in events)


def reveal_inserts(queries) -> int:
    return sum(1 for query in queries if query["sql"].startswith('INSERT INTO "privacy_contactreveal"'))


def test_a_key_with_the_contacts_scope_reading_customers_is_recorded_per_record_and_field_in_one_insert(
    client, firm_a, customer
):
    with tenant_context(firm_a):
        second = CustomerFactory(mobile="13700000000")
    key, headers = key_headers(firm_a, ["leads:read", "contacts:read"], name="装修网")

    with CaptureQueriesContext(connection) as queries:
        listed = client.get("/api/v1/customers/?page_size=10", **headers).json()["results"]

    assert {row["mobile"] for row in listed} == {MOBILE, "13700000000"}
    assert reveal_inserts(queries.captured_queries) == 1
    with tenant_context(firm_a):
        reveals = set(ContactReveal.objects.values_list("api_key_id", "user_id", "record_type", "record_id", "field"))
        assert reveals == {
            (key.pk, None, "leads.customer", str(customer.pk), "mobile"),
            (key.pk, None, "leads.customer", str(customer.pk), "other_contacts"),
            (key.pk, None, "leads.customer", str(second.pk), "mobile"),
        }
        assert set(ContactReveal.objects.values_list("page", flat=True)) == {"/api/v1/customers/"}

    with CaptureQueriesContext(connection) as queries:
        client.get(f"/api/v1/properties/?customer={customer.pk}", **headers)
    assert reveal_inserts(queries.captured_queries) == 1
    with tenant_context(firm_a):
        assert ContactReveal.objects.filter(record_type="leads.property", field="address", api_key=key).count() == 1


def test_a_key_reading_the_audit_trail_in_full_is_recorded_as_a_reveal_of_the_rows_it_names(client, firm_a, customer):
    key, headers = key_headers(firm_a, ["audit:read", "contacts:read"])

    with CaptureQueriesContext(connection) as queries:
        events = client.get("/api/v1/audit-events/?table_name=leads_customer", **headers).json()["results"]

    assert events[0]["changes"]["mobile"] == MOBILE
    assert reveal_inserts(queries.captured_queries) == 1
    with tenant_context(firm_a):
        assert set(ContactReveal.objects.values_list("api_key_id", "record_type", "record_id", "field")) == {
            (key.pk, "leads.customer", str(customer.pk), "mobile"),
            (key.pk, "leads.customer", str(customer.pk), "other_contacts"),
        }


def test_staff_reading_the_api_with_the_contacts_permission_are_recorded_too(client, firm_a, customer):
    user = MembershipFactory(tenant=firm_a, role="sales").user
    client.force_login(user)
    assert client.get(f"/api/v1/customers/{customer.pk}/").json()["mobile"] == MOBILE
    with tenant_context(firm_a):
        assert list(ContactReveal.objects.values_list("user_id", "api_key_id", "field").order_by("field")) == [
            (user.pk, None, "mobile"),
            (user.pk, None, "other_contacts"),
        ]


@pytest.mark.usefixtures("english")
def test_the_privacy_page_names_the_key_that_was_sent_contact_details(client, firm_a, customer, staff_client):
    _key, headers = key_headers(firm_a, ["leads:read", "contacts:read"], name="装修网")
    client.get(f"/api/v1/customers/{customer.pk}/", **headers)

    html = staff_client.get("/privacy/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "API key “装修网”" in html
    assert f'<a href="/leads/customers/{customer.pk}/">Customer {customer.name}</a>' in html


def test_a_reveal_names_exactly_one_of_a_user_and_a_key(firm_a):
    with tenant_context(firm_a):
        key = ApiKeyFactory()
        user = MembershipFactory(tenant=firm_a).user
        for who in ({}, {"user": user, "api_key": key}):
            with pytest.raises(IntegrityError), transaction.atomic():
                ContactReveal.objects.create(record_type="leads.customer", record_id="1", field="mobile", **who)


# Which free text is masked: every field of every API answer is decided ---------------------------------------

# Free text in API answers that holds no homeowner's contact details: names of things, units, numbers.
NOT_CONTACT_TEXT = {
    "renocrm.outbox.apis.StaffNoticeSerializer": {"link"},
    "aftercare.apis.CoverageSerializer": {"name"},
    "aftercare.apis.WarrantyCardSerializer": {"number"},
    "callbacks.apis.CallbackSerializer": {"customer_name", "name"},
    "callbacks.apis.CallbackStepSerializer": {"name", "phase_kind"},
    "contracts.apis.ChangeOrderLineSerializer": {"name", "unit"},
    "contracts.apis.ContractSerializer": {"number"},
    "contracts.apis.InstalmentSerializer": {"trigger_phase"},
    "contracts.apis.ItemSerializer": {"name", "unit", "brand_model", "code", "room"},
    "contracts.apis.MainMaterialSerializer": {"name", "brand_model", "unit"},
    "contracts.apis.QuotationSerializer": {"title"},
    "contracts.apis.VersionSerializer": {"accepted_name", "other_fee_label"},
    "leads.apis.CustomerSerializer": {"name"},
    "leads.apis.LeadSerializer": {"customer_name"},
    "leads.apis.LeadCreateSerializer": {"customer_name"},
    # The region is what the masked address shows anyway; the parts that find the door are contact fields.
    "leads.apis.PropertySerializer": {"layout", "province", "city", "district"},
    # Input only: given nested (write-only) with a new lead or a measurement appointment, never answered.
    "leads.apis.PropertyInputSerializer": {
        "province",
        "city",
        "district",
        "street",
        "compound",
        "building_unit_room",
        "layout",
    },
    "leads.apis.ReferralRewardSerializer": {"gift"},
    "renocrm.api.apis.ApiKeySerializer": {"name", "prefix", "rate"},
    "renocrm.api.apis.CreatedApiKeySerializer": {"name", "prefix", "rate", "key"},
    "renocrm.audit.apis.AuditEventSerializer": {"table_name", "row_id", "request_id", "changes"},
    # Partners' own endpoints and their servers' answers (webhooks are masked where they are sent).
    "renocrm.outbox.apis.WebhookDeliverySerializer": {"event_type", "last_response_body", "last_error"},
    "renocrm.outbox.apis.WebhookEndpointSerializer": {"url", "description"},
    "renocrm.outbox.apis.WebhookEndpointWithSecretSerializer": {"url", "description", "secret"},
    "worksites.apis.handover.AcceptanceItemSerializer": {"area", "item"},
    "worksites.apis.handover.HandoverDocumentSerializer": {"title", "content_type", "original_name"},
    "worksites.apis.inspections.MaterialArrivalSerializer": {"material", "brand_model", "unit"},
    "worksites.apis.inspections.SignoffSerializer": {"signed_name"},
    "worksites.apis.inspections.SiteProblemSerializer": {"title", "chosen_name"},
    "worksites.apis.progress.ProgressMediaSerializer": {"content_type", "original_name"},
    "worksites.apis.inspections.SiteMediaSerializer": {"content_type", "original_name"},
    # The firm's fixed words of what the homeowner checks at each kind of inspection.
    "worksites.apis.inspections.InspectionSerializer": {"homeowner_checks"},
    "worksites.apis.schedule.PhaseSerializer": {"name", "accepted_name"},
    "worksites.apis.schedule.PhaseTemplateSerializer": {"name"},
    "worksites.apis.schedule.WorksiteSerializer": {"customer_name", "current_phase"},
    "worksites.apis.schedule.WorksiteDetailSerializer": {"customer_name", "current_phase"},
}
API_MODULES = [
    "leads.apis",
    "contracts.apis",
    "aftercare.apis",
    "callbacks.apis",
    "complaints.apis",
    "renocrm.audit.apis",
    "renocrm.outbox.apis",
    "renocrm.api.apis",
    *(
        f"worksites.apis.{module.name}"
        for module in pkgutil.iter_modules(importlib.import_module("worksites.apis").__path__)
    ),
]


def _free_text_fields(serializer_class) -> set[str]:
    model = serializer_class.Meta.model
    found = set()
    for name, field in serializer_class().fields.items():
        if field.write_only or not isinstance(field, serializers.CharField | serializers.JSONField):
            continue
        try:
            column = model._meta.get_field(field.source)
        except Exception:
            found.add(name)  # a value from elsewhere: decide it too
            continue
        if isinstance(column, models.TextField | models.JSONField) or (
            isinstance(column, models.CharField) and not column.choices
        ):
            found.add(name)
    return found


def test_every_free_text_field_of_an_api_answer_is_masked_or_known_to_hold_no_contact_details():
    undecided = []
    for module_name in API_MODULES:
        module = importlib.import_module(module_name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module_name or not issubclass(cls, serializers.ModelSerializer):
                continue
            label = f"{module_name}.{name}"
            masked = set()
            if issubclass(cls, MaskedContactsMixin):
                masked = set(cls.contact_fields) | set(cls.text_fields)
            left = _free_text_fields(cls) - masked - NOT_CONTACT_TEXT.get(label, set())
            if left:
                undecided.append(f"{label}: {sorted(left)}")
    assert not undecided, (
        "Free text in API answers that may hold a phone number: add each to the serializer's text_fields "
        "(MaskedContactsMixin) or, if it never holds contact details, to NOT_CONTACT_TEXT here.\n"
        + "\n".join(undecided)
    )


# The audit page ------------------------------------------------------------------------------------------------


def test_the_audit_page_masks_contacts_for_a_role_without_the_contacts_permission(
    client, firm_a, customer, monkeypatch
):
    # No role has the audit log without contact details today; a firm's finance reading it must still see masks.
    monkeypatch.setitem(roles.PERMISSIONS, "audit.view", roles.PERMISSIONS["audit.view"] | {roles.Role.FINANCE})
    client.force_login(MembershipFactory(tenant=firm_a, role="finance").user)

    response = client.get("/audit/?table=leads_customer", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    html = response.content.decode()
    assert "138****1234" in html and "wa****" in html
    for secret in (MOBILE, SPOUSE, "wang_fang88", "1234-1234"):
        assert secret not in html
    assert 'data-testid="audit-contacts-masked"' in html


def test_the_audit_page_shows_contacts_to_an_admin(client, firm_a, customer):
    client.force_login(MembershipFactory(tenant=firm_a, role="admin").user)
    html = client.get("/audit/?table=leads_customer", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert MOBILE in html and 'data-testid="audit-contacts-masked"' not in html


# Pages -----------------------------------------------------------------------------------------------------------


def test_the_customer_page_masks_other_contacts_with_a_recorded_reveal(client, firm_a, customer):
    client.force_login(MembershipFactory(tenant=firm_a, role="sales").user)
    html = client.get(f"/leads/customers/{customer.pk}/").content.decode()
    assert "wang_fang88" not in html and SPOUSE[-4:] in html and "wa****" in html

    revealed = client.post(f"/privacy/reveal/leads.customer/{customer.pk}/other_contacts/").content.decode()
    assert "wang_fang88" in revealed
    with tenant_context(firm_a):
        assert ContactReveal.objects.filter(field="other_contacts").count() == 1
