"""A home's address in its parts from the first lead on: composed into one line the same way everywhere,
checked (a city, and a compound or a street), masked like a mobile number for whoever may not see contacts,
exported and erased part by part, and cut out of free text by its compound and room."""

import io
import json
import zipfile
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import TextField
from django.db.models.functions import Cast
from django.test import Client

from leads.models import Customer, Lead, Property, property_label
from leads.services import customers as customer_services
from leads.services import pipeline
from leads.services.privacy import customer_data_export, customer_erase
from renocrm.audit.models import AuditEvent
from renocrm.privacy import registry
from renocrm.privacy.masking import mask_address, mask_audit_changes
from renocrm.privacy.models import ContactReveal
from renocrm.tenancy.context import tenant_context
from tests.factories import ApiKeyFactory, MembershipFactory
from tests.leads.factories import CustomerFactory, LeadFactory, PropertyFactory

pytestmark = pytest.mark.usefixtures("english")

HOME = {
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "street": "文三路188号",
    "compound": "翠湖花园",
    "building_unit_room": "3-1-602",
}
FULL = "浙江省杭州市西湖区 文三路188号 翠湖花园 3-1-602"


@pytest.fixture
def sales(client, firm_a):
    client.force_login(MembershipFactory(tenant=firm_a, role="sales").user)
    return client


def signed_in(firm, role):
    client = Client()
    client.force_login(MembershipFactory(tenant=firm, role=role).user)
    return client


def key_headers(firm, scopes):
    with tenant_context(firm):
        key = ApiKeyFactory(scopes=scopes)
    return {"HTTP_AUTHORIZATION": f"Api-Key {key.raw_key}"}


def post(client, url, body, **headers):
    return client.post(url, body, content_type="application/json", **headers)


# The one line, the label, the masked form -----------------------------------------------------------------


def test_the_address_is_composed_from_its_parts_region_first():
    assert Property(**HOME).compose_address() == FULL
    # A municipality is its own province: named once.
    assert Property(province="上海市", city="上海市", district="浦东新区", compound="锦绣花园").compose_address() == (
        "上海市浦东新区 锦绣花园"
    )


def test_the_masked_address_shows_the_region_and_nothing_that_finds_the_door():
    assert mask_address(FULL) == "浙江省杭州市****"
    assert mask_address("杭州市西湖区 翠湖花园 3-1-602") == "杭州市西湖区****"
    assert mask_address("杭州市 翠湖花园 3-1-602") == "杭州市****"


def test_a_worksite_is_named_by_compound_and_room_with_the_homeowner():
    wang = Customer(name="王芳")
    assert property_label(Property(**HOME), wang) == "翠湖花园 3-1-602 · 王芳"
    assert property_label(Property(street="文三路188号", building_unit_room="2单元501"), wang) == (
        "文三路188号 2单元501 · 王芳"
    )
    # An address kept whole (before the parts existed), and no property at all.
    assert property_label(Property(address="上海市浦东新区锦绣路1号"), wang) == "上海市浦东新区锦绣路1号 · 王芳"
    assert property_label(None, wang) == "王芳"
    # Within the project's name: the place is cut, never the homeowner.
    long = property_label(Property(street="路" * 300), wang)
    assert len(long) == 200 and long.endswith(" · 王芳")


# The services -------------------------------------------------------------------------------------------


def test_a_property_is_recorded_in_its_parts_trimmed(firm_a):
    with tenant_context(firm_a):
        customer = CustomerFactory()
        home = customer_services.property_create(
            customer=customer,
            area=Decimal("89"),
            **{**HOME, "compound": " 翠湖花园 ", "building_unit_room": " 3-1-602  "},
        )
        home.refresh_from_db()
    assert (home.compound, home.building_unit_room, home.address) == ("翠湖花园", "3-1-602", FULL)


def test_a_property_needs_a_city_and_a_compound_or_a_street(firm_a):
    with tenant_context(firm_a):
        customer = CustomerFactory()
        with pytest.raises(ValidationError) as refused:
            customer_services.property_create(customer=customer, area=None, province="浙江省", building_unit_room="1")
        assert set(refused.value.message_dict) == {"city", "compound", "area"}
        assert refused.value.message_dict["compound"] == ["Give the residential compound or the street and number."]
        # A street without a compound is enough.
        home = customer_services.property_create(
            customer=customer, area=Decimal("60"), city="杭州市", street="文一路1号"
        )
        assert home.address == "杭州市 文一路1号"
        assert not Property.objects.filter(compound__gt="").exists()


def test_a_property_update_composes_the_address_again(firm_a):
    with tenant_context(firm_a):
        home = PropertyFactory(address="上海市浦东新区锦绣路1号")  # kept whole, as the migration left it
        assert home.street == home.address
        with pytest.raises(ValidationError) as refused:
            customer_services.property_update(property=home, compound="锦绣花园")
        assert set(refused.value.message_dict) == {"city"}
        customer_services.property_update(
            property=home, city="上海市", district="浦东新区", street="锦绣路1号", compound="锦绣花园"
        )
        home.refresh_from_db()
        assert home.address == "上海市浦东新区 锦绣路1号 锦绣花园"
        # Changing the layout alone checks nothing of the address.
        customer_services.property_update(property=home, layout="2室1厅")


def test_a_lead_records_the_customers_home_with_it(firm_a):
    with tenant_context(firm_a):
        lead, _ = pipeline.lead_create(
            channel="online", name="王芳", mobile="13800138000", new_property={**HOME, "area": Decimal("86")}
        )
        assert lead.property.address == FULL and lead.property.customer_id == lead.customer_id
        with pytest.raises(ValidationError) as refused:
            pipeline.lead_create(
                channel="online", name="李雷", mobile="13900139000", new_property={"city": "杭州市", "area": None}
            )
        assert set(refused.value.message_dict) == {"compound", "area"}
        assert Lead.objects.count() == 1 and Property.objects.count() == 1


# Pages ----------------------------------------------------------------------------------------------------


def test_the_new_lead_page_takes_the_address(sales, firm_a):
    page = sales.get("/leads/new/").content.decode()
    assert 'data-testid="home-fields"' in page and 'name="compound"' in page
    lead_data = {"name": "王芳", "mobile": "13800138000", "channel": "showroom"}
    refused = sales.post("/leads/new/", {**lead_data, "compound": "翠湖花园", "area": ""})
    assert refused.status_code == 200
    assert set(refused.context["form"].errors) == {"city", "area"}
    with tenant_context(firm_a):
        assert not Lead.objects.exists()
    saved = sales.post("/leads/new/", {**lead_data, **HOME, "area": "86", "layout": "2室1厅"})
    assert saved.status_code == 302
    # No address given: a lead without a property, as before.
    assert sales.post("/leads/new/", {"name": "李雷", "mobile": "13900139000", "channel": "phone"}).status_code == 302
    with tenant_context(firm_a):
        wang, li = Lead.objects.order_by("id")
        assert (wang.property.address, wang.property.layout, wang.property.condition) == (FULL, "2室1厅", "new")
        assert li.property is None and Property.objects.count() == 1
    detail = sales.get(f"/leads/{wang.pk}/").content.decode()
    assert "浙江省杭州市****" in detail and "翠湖花园" not in detail


def test_the_lead_edit_page_adds_a_new_property(sales, firm_a):
    with tenant_context(firm_a):
        lead = LeadFactory()
    url = f"/leads/{lead.pk}/edit/"
    assert 'data-testid="home-fields"' in sales.get(url).content.decode()
    assert sales.post(url, {**HOME, "area": "120"}).status_code == 302
    with tenant_context(firm_a):
        lead.refresh_from_db()
        assert lead.property.address == FULL and lead.property.customer_id == lead.customer_id
    # The property list shows addresses masked, never in full.
    page = sales.get(url).content.decode()
    assert "浙江省杭州市****" in page and FULL not in page and "翠湖花园" not in page


def test_the_property_page_edits_the_parts(sales, firm_a):
    with tenant_context(firm_a):
        home = PropertyFactory(address="杭州市文三路188号")
    url = f"/leads/properties/{home.pk}/edit/"
    assert sales.get(url).context["form"].initial["street"] == "杭州市文三路188号"
    refused = sales.post(
        url, {"street": "", "compound": "", "city": "", "area": "80", "condition": "new", "kind": "apartment"}
    )
    assert set(refused.context["form"].errors) == {"city", "compound"}
    assert sales.post(url, {**HOME, "area": "80", "condition": "old", "kind": "apartment"}).status_code == 302
    with tenant_context(firm_a):
        home.refresh_from_db()
    assert (home.address, home.condition) == (FULL, "old")
    assert f"/leads/properties/{home.pk}/edit/" in sales.get(f"/leads/customers/{home.customer_id}/").content.decode()


def test_another_firms_property_page_is_404(sales, firm_b):
    with tenant_context(firm_b):
        home = PropertyFactory()
    url = f"/leads/properties/{home.pk}/edit/"
    assert sales.get(url).status_code == 404
    assert sales.post(url, {**HOME, "area": "80", "condition": "old", "kind": "apartment"}).status_code == 404


def test_customer_service_cannot_edit_a_property(firm_a):
    with tenant_context(firm_a):
        home = PropertyFactory()
    assert signed_in(firm_a, "customer_service").get(f"/leads/properties/{home.pk}/edit/").status_code == 403


# API ------------------------------------------------------------------------------------------------------


def test_the_api_creates_and_edits_a_property_in_its_parts(firm_a, partner):
    with tenant_context(firm_a):
        customer = CustomerFactory()
    created = post(Client(), "/api/v1/properties/", {"customer": customer.pk, **HOME, "area": "86"}, **partner.headers)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["address"] == FULL and body["compound"] == "翠湖花园" and body["building_unit_room"] == "3-1-602"
    # ``address`` is composed, never written.
    changed = Client().patch(
        f"/api/v1/properties/{body['id']}/",
        {"building_unit_room": "3-1-702", "address": "somewhere else"},
        content_type="application/json",
        **partner.headers,
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["address"] == "浙江省杭州市西湖区 文三路188号 翠湖花园 3-1-702"


def test_the_api_names_every_address_mistake(firm_a, partner):
    with tenant_context(firm_a):
        customer = CustomerFactory()
    refused = post(
        Client(),
        "/api/v1/properties/",
        {"customer": customer.pk, "province": "浙江省", "area": "86"},
        **partner.headers,
    )
    assert refused.status_code == 400
    assert set(refused.json()["error"]["fields"]) == {"city", "compound"}


def test_a_lead_through_the_api_brings_its_property(firm_a, partner):
    refused = post(
        Client(),
        "/api/v1/leads/",
        {"name": "王芳", "mobile": "13800138000", "new_property": {"city": "杭州市", "area": "86"}},
        **partner.headers,
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"] == {
        "new_property": {"compound": ["Give the residential compound or the street and number."]}
    }
    created = post(
        Client(),
        "/api/v1/leads/",
        {"name": "王芳", "mobile": "13800138000", "new_property": {**HOME, "area": "86", "layout": "2室1厅"}},
        **partner.headers,
    )
    assert created.status_code == 201, created.content
    with tenant_context(firm_a):
        lead = Lead.objects.select_related("property").get(pk=created.json()["id"])
    assert lead.property.address == FULL and created.json()["property"] == lead.property_id


def test_a_key_without_the_contacts_scope_reads_the_address_masked(firm_a):
    with tenant_context(firm_a):
        home = PropertyFactory(**HOME)
    masked = Client().get(f"/api/v1/properties/{home.pk}/", **key_headers(firm_a, ["leads:read"])).json()
    assert masked["address"] == "浙江省杭州市****"
    assert (masked["street"], masked["compound"], masked["building_unit_room"]) == ("****", "****", "****")
    assert (masked["province"], masked["city"], masked["district"]) == ("浙江省", "杭州市", "西湖区")
    full = Client().get(f"/api/v1/properties/{home.pk}/", **key_headers(firm_a, ["leads:read", "contacts:read"]))
    assert full.json()["compound"] == "翠湖花园"
    with tenant_context(firm_a):
        # The parts are the address again: one reveal.
        assert list(ContactReveal.objects.values_list("field", flat=True)) == ["address"]


def test_the_audit_trail_masks_every_part_that_finds_the_door():
    changes = {"address": FULL, **HOME}
    masked = mask_audit_changes("leads_property", changes)
    assert masked["address"] == "浙江省杭州市****"
    assert (masked["street"], masked["compound"], masked["building_unit_room"]) == ("****", "****", "****")


# Personal data ----------------------------------------------------------------------------------------------


def test_the_export_holds_every_part_and_erasure_blanks_them_and_cuts_them_from_notes(firm_a):
    with tenant_context(firm_a):
        staff = MembershipFactory(tenant=firm_a, role="admin").user
        customer = CustomerFactory(name="王芳")
        home = PropertyFactory(customer=customer, **HOME)
        lead = LeadFactory(customer=customer, property=home, lost_reason="翠湖花园3-1-602 已找人装修，文三路188号东门")

        document = json.loads(
            zipfile.ZipFile(io.BytesIO(customer_data_export(customer=customer))).read("customer.json")
        )
        exported = document["properties"][0]
        assert {part: exported[part] for part in HOME} == HOME and exported["address"] == FULL

        assert set(registry.identifiers(customer)) >= {FULL, "翠湖花园 3-1-602", "翠湖花园3-1-602", "文三路188号"}
        customer_erase(customer=customer, by=staff)

        home.refresh_from_db()
        assert home.address == "Erased address"
        assert all(getattr(home, part) == "" for part in HOME)
        assert (home.area, home.layout) == (Decimal("98.50"), "3室2厅")  # not personal: the figures keep them
        lead.refresh_from_db()
        assert lead.lost_reason == "[erased] 已找人装修，[erased]东门"
        trail = AuditEvent.objects.annotate(text=Cast("changes", TextField()))
        for part in ("翠湖花园", "3-1-602", "文三路188号"):
            assert not trail.filter(table_name="leads_property", text__contains=part).exists(), part
