"""The measurement appointment needs to know where: refused for a lead without an address, whose address is
entered on the booking page (or given through the API) and recorded as the lead's property in the same
transaction; the signed project, and so the worksite, is named by compound and room with the homeowner."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from contracts.models import MeasurementAppointment
from contracts.services import design
from leads.models import Lead, Property
from renocrm.outbox.models import OutboxEvent
from renocrm.tenancy.context import tenant_context
from tests.contracts.test_services import signed_contract
from tests.factories import MembershipFactory
from tests.leads.factories import CustomerFactory, LeadFactory, PropertyFactory
from tests.worksites.factories import WorksiteFactory

pytestmark = pytest.mark.usefixtures("english")

HOME = {
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "street": "文三路188号",
    "compound": "翠湖花园",
    "building_unit_room": "3-1-602",
}
NEXT_WEEK = f"{date.today() + timedelta(days=7)}T10:00"
NO_ADDRESS = "The lead has no property with an address: enter where the designer is to measure."


@pytest.fixture
def designer(client, firm_a):
    client.force_login(MembershipFactory(tenant=firm_a, role="designer").user)
    return client


def next_week():
    return datetime.combine(date.today() + timedelta(days=7), time(10), tzinfo=ZoneInfo("Asia/Shanghai"))


def test_a_measurement_without_an_address_is_refused_on_the_field(firm_a):
    with tenant_context(firm_a):
        lead = LeadFactory()
        with pytest.raises(ValidationError) as refused:
            design.measurement_appointment_schedule(lead=lead, scheduled_at=next_week())
        assert refused.value.message_dict == {"new_property": [NO_ADDRESS]}
        # An address without the city or the area is not enough either; nothing is written.
        with pytest.raises(ValidationError) as refused:
            design.measurement_appointment_schedule(
                lead=lead, scheduled_at=next_week(), new_property={"compound": "翠湖花园"}
            )
        assert set(refused.value.message_dict) == {"city", "area"}
        assert not MeasurementAppointment.objects.exists() and not Property.objects.exists()
        assert not OutboxEvent.objects.filter(event_type="measurement.scheduled").exists()


def test_a_measurement_records_the_address_given_with_it(firm_a):
    with tenant_context(firm_a):
        lead = LeadFactory()
        appointment = design.measurement_appointment_schedule(
            lead=lead, scheduled_at=next_week(), new_property={**HOME, "area": "86"}
        )
        lead.refresh_from_db()
        assert appointment.lead_id == lead.pk
        assert lead.property.address == "浙江省杭州市西湖区 文三路188号 翠湖花园 3-1-602"
        assert lead.property.customer_id == lead.customer_id
        # A lead that has an address takes no second one.
        with pytest.raises(ValidationError) as refused:
            design.measurement_appointment_schedule(
                lead=lead, scheduled_at=next_week(), new_property={**HOME, "area": "86"}
            )
        assert list(refused.value.message_dict) == ["new_property"]
        assert Property.objects.count() == 1


def test_the_measurement_page_asks_for_the_address_when_the_lead_has_none(designer, firm_a):
    with tenant_context(firm_a):
        lead = LeadFactory()
    url = f"/contracts/leads/{lead.pk}/measurements/new/"
    page = designer.get(url).content.decode()
    assert 'data-testid="home-fields"' in page and 'name="building_unit_room"' in page
    refused = designer.post(url, {"scheduled_at": NEXT_WEEK, "notes": "bring laser"})
    assert refused.status_code == 200
    errors = refused.context["form"].errors
    assert set(errors) == {"city", "compound", "area"}
    assert errors["compound"] == ["Give the residential compound or the street and number."]
    with tenant_context(firm_a):
        assert not MeasurementAppointment.objects.exists() and not Property.objects.exists()

    booked = designer.post(url, {"scheduled_at": NEXT_WEEK, "notes": "bring laser", **HOME, "area": "86"})
    assert booked.status_code == 302
    with tenant_context(firm_a):
        appointment = MeasurementAppointment.objects.select_related("lead__property").get()
    assert appointment.notes == "bring laser"
    assert (appointment.lead.property.compound, appointment.lead.property.building_unit_room) == ("翠湖花园", "3-1-602")


def test_the_measurement_page_shows_the_leads_address_masked(designer, firm_a):
    with tenant_context(firm_a):
        wang = CustomerFactory()
        lead = LeadFactory(customer=wang, property=PropertyFactory(customer=wang, **HOME))
    url = f"/contracts/leads/{lead.pk}/measurements/new/"
    page = designer.get(url).content.decode()
    assert 'data-testid="home-address"' in page and "浙江省杭州市****" in page
    assert "翠湖花园" not in page and 'name="compound"' not in page and 'name="scheduled_at"' in page
    assert designer.post(url, {"scheduled_at": NEXT_WEEK}).status_code == 302


def test_the_measurement_api_refuses_without_an_address_and_takes_one(firm_a, partner):
    with tenant_context(firm_a):
        lead = LeadFactory()
    client, url = Client(), "/api/v1/measurement-appointments/"
    body = {"lead": lead.pk, "scheduled_at": f"{NEXT_WEEK}:00+08:00"}
    refused = client.post(url, body, content_type="application/json", **partner.headers)
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"] == {"new_property": [NO_ADDRESS]}
    partial = {**body, "new_property": {"city": "杭州市", "area": "86"}}
    refused = client.post(url, partial, content_type="application/json", **partner.headers)
    assert refused.json()["error"]["fields"] == {
        "new_property": {"compound": ["Give the residential compound or the street and number."]}
    }
    created = client.post(
        url, {**body, "new_property": {**HOME, "area": "86"}}, content_type="application/json", **partner.headers
    )
    assert created.status_code == 201, created.content
    with tenant_context(firm_a):
        assert Lead.objects.get(pk=lead.pk).property.compound == "翠湖花园"


def test_signing_names_the_project_by_compound_and_room_with_the_homeowner(firm_a):
    with tenant_context(firm_a):
        wang = CustomerFactory(name="王芳")
        lead = LeadFactory(customer=wang, property=PropertyFactory(customer=wang, **HOME))
        contract = signed_contract(lead=lead)
        assert contract.project.name == "翠湖花园 3-1-602 · 王芳"
        # No property: the homeowner's name alone.
        li = CustomerFactory(name="李雷")
        assert signed_contract(lead=LeadFactory(customer=li), number="HT-002").project.name == "李雷"


def test_contract_and_worksite_pages_show_the_address_masked_to_finance_and_qc(firm_a):
    with tenant_context(firm_a):
        wang = CustomerFactory(name="王芳")
        lead = LeadFactory(customer=wang, property=PropertyFactory(customer=wang, **HOME))
        contract = signed_contract(lead=lead)
        site = WorksiteFactory(project=contract.project, contract=contract)
    finance = Client()
    finance.force_login(MembershipFactory(tenant=firm_a, role="finance").user)
    page = finance.get(f"/contracts/{contract.pk}/").content.decode()
    assert 'data-testid="project-address"' in page and "浙江省杭州市****" in page and "文三路188号" not in page
    assert 'data-testid="reveal"' not in page
    qc = Client()
    qc.force_login(MembershipFactory(tenant=firm_a, role="qc").user)
    page = qc.get(f"/worksites/{site.pk}/").content.decode()
    assert "翠湖花园 3-1-602 · 王芳" in page  # the worksite's name
    assert 'data-testid="project-address"' in page and "浙江省杭州市****" in page and "文三路188号" not in page


def test_a_time_with_an_offset_no_clock_uses_is_the_fields_error_on_the_page(designer, firm_a):
    # PostgreSQL refuses offsets beyond ±15:59: the form refuses them first instead of a 500.
    with tenant_context(firm_a):
        wang = CustomerFactory()
        lead = LeadFactory(customer=wang, property=PropertyFactory(customer=wang, **HOME))
    url = f"/contracts/leads/{lead.pk}/measurements/new/"
    refused = designer.post(url, {"scheduled_at": "2030-12-29T02:30+23:34"})
    assert refused.status_code == 200 and refused.context["form"].errors["scheduled_at"]
    with tenant_context(firm_a):
        assert not lead.measurement_appointments.exists()
