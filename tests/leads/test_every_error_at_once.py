"""A form with several mistakes shows every one of them after one submission: the fields' own errors and the
rules the service keeps (``lead_check``, ``customer_check``, ``property_check``) together, while the services
still check the same rules, all at once, in their transactions (the API uses them too)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from leads.models import Customer, Lead, Property
from leads.services import customers, pipeline
from renocrm.tenancy.context import tenant_context
from tests.factories import MembershipFactory
from tests.leads.factories import CustomerFactory, LeadFactory, PropertyFactory


@pytest.fixture
def sales(client, firm_a):
    membership = MembershipFactory(tenant=firm_a, role="sales", user__language="en")
    client.force_login(membership.user)
    return client


def errors(response) -> dict:
    return response.context["form"].errors


def api_post(client, url, body):
    return client.post(url, body, content_type="application/json")


# Pages --------------------------------------------------------------------------------------------------------


def test_one_lead_submission_shows_the_field_mistakes_and_the_broken_rules_together(sales, firm_a):
    response = sales.post(
        "/leads/new/",
        {
            "name": "",  # required
            "mobile": "12345",  # not a mobile number: the service's rule
            "channel": "referral",  # a referral without its referrer: the service's rule
            "household": "x" * 201,  # longer than the column
            "budget_min": "300000",
            "budget_max": "200000",  # below the lower end: the service's rule
            "next_follow_up_on": "someday",  # not a date
        },
    )
    assert response.status_code == 200
    shown = errors(response)
    assert set(shown) == {"name", "household", "next_follow_up_on", "mobile", "referrer", "budget_max"}
    assert shown["mobile"] == ["Enter a mainland-China mobile number: 11 digits starting with 13–19."]
    assert shown["referrer"] == ["A referral needs the referring customer."]
    assert shown["budget_max"] == ["The budget's upper end is below its lower end."]
    html = response.content.decode()
    assert "A referral needs the referring customer." in html and "This field is required." in html
    with tenant_context(firm_a):
        assert not Lead.objects.exists() and not Customer.objects.exists()


def test_a_lead_whose_fields_are_right_still_shows_every_broken_rule_at_once(sales, firm_a):
    with tenant_context(firm_a):
        known = CustomerFactory(mobile="13800138000")
    response = sales.post(
        "/leads/new/",
        {
            "name": "王芳",
            "mobile": "13800138000",
            "channel": "referral",
            "referrer": known.pk,  # the customer this mobile number belongs to
            "budget_min": "9",
            "budget_max": "1",
        },
    )
    assert set(errors(response)) == {"referrer", "budget_max"}
    assert errors(response)["referrer"] == ["A customer cannot refer themselves."]
    with tenant_context(firm_a):
        assert not Lead.objects.exists()


def test_a_rule_reading_a_wrong_field_waits_for_it(sales, firm_a):
    """A referrer with a channel that is not one: the channel's error alone, no guess about the referral."""
    with tenant_context(firm_a):
        referrer = CustomerFactory()
    response = sales.post(
        "/leads/new/", {"name": "王", "mobile": "13800138000", "channel": "x", "referrer": referrer.pk}
    )
    assert set(errors(response)) == {"channel"}


def test_the_lead_edit_form_shows_field_mistakes_and_the_budget_rule_together(sales, firm_a):
    with tenant_context(firm_a):
        lead = LeadFactory()
    qc = MembershipFactory(tenant=firm_a, role="qc").user
    response = sales.post(
        f"/leads/{lead.pk}/edit/",
        {
            "household": "x" * 201,
            "budget_min": "300000",
            "budget_max": "200000",
            "designer": qc.pk,  # not a designer
            "next_follow_up_on": "soon",
        },
    )
    assert response.status_code == 200
    assert set(errors(response)) == {"household", "budget_max", "designer", "next_follow_up_on"}
    with tenant_context(firm_a):
        lead.refresh_from_db()
        assert (lead.household, lead.budget_max, lead.designer_id) == ("", None, None)


def test_the_customer_form_shows_a_known_mobile_beside_the_field_mistakes(sales, firm_a):
    with tenant_context(firm_a):
        CustomerFactory(mobile="13800138000")
    response = sales.post("/leads/customers/new/", {"name": "", "mobile": "138 0013 8000", "birthday": "May"})
    assert set(errors(response)) == {"name", "birthday", "mobile"}
    assert errors(response)["mobile"] == ["A customer with this mobile number already exists."]
    bad_number = sales.post("/leads/customers/new/", {"name": "", "mobile": "123"})
    assert set(errors(bad_number)) == {"name", "mobile"}
    with tenant_context(firm_a):
        assert Customer.objects.count() == 1


def test_editing_a_customer_shows_every_mistake_and_keeps_its_own_number(sales, firm_a):
    with tenant_context(firm_a):
        customer = CustomerFactory(name="王五", mobile="13800138000")
        other = CustomerFactory(mobile="13900139000")
    url = f"/leads/customers/{customer.pk}/edit/"
    taken = sales.post(url, {"name": "", "mobile": other.mobile, "birthday": "May"})
    assert set(errors(taken)) == {"name", "mobile", "birthday"}
    assert sales.post(url, {"name": "王小五", "mobile": "138-0013-8000"}).status_code == 302
    with tenant_context(firm_a):
        customer.refresh_from_db()
        assert (customer.name, customer.mobile) == ("王小五", "13800138000")


def test_the_property_form_shows_the_area_rule_beside_the_field_mistakes(sales, firm_a):
    with tenant_context(firm_a):
        customer = CustomerFactory()
    response = sales.post(
        f"/leads/customers/{customer.pk}/properties/new/",
        {"city": "", "compound": "", "street": "", "area": "-5", "condition": "old"},
    )
    assert set(errors(response)) == {"city", "compound", "area", "kind"}
    assert errors(response)["area"] == ["The area must be more than 0 m²."]
    assert errors(response)["compound"] == ["Give the residential compound or the street and number."]
    with tenant_context(firm_a):
        assert not Property.objects.exists()


# The API ----------------------------------------------------------------------------------------------------


@pytest.fixture
def api(client, firm_a):
    client.force_login(MembershipFactory(tenant=firm_a, role="sales").user)
    return client


def test_the_api_answers_every_field_error_together(api, firm_a):
    response = api_post(
        api,
        "/api/v1/leads/",
        {"channel": "carrier pigeon", "name": "王", "mobile": "1" * 31, "budget_min": "lots", "next_follow_up_on": "x"},
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"channel", "mobile", "budget_min", "next_follow_up_on"}
    customer = api_post(api, "/api/v1/customers/", {"name": "", "mobile": "", "birthday": "May"})
    assert customer.status_code == 400
    assert set(customer.json()["error"]["fields"]) == {"name", "mobile", "birthday"}


def test_the_api_answers_every_broken_rule_together(api, firm_a):
    response = api_post(
        api,
        "/api/v1/leads/",
        {"channel": "referral", "name": "王", "mobile": "12345", "budget_min": "9", "budget_max": "1"},
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"mobile", "referrer", "budget_max"}
    with tenant_context(firm_a):
        assert not Lead.objects.exists() and not Customer.objects.exists()


def test_the_api_still_answers_a_known_mobile_with_409(api, firm_a):
    with tenant_context(firm_a):
        CustomerFactory(mobile="13800138000")
    assert api_post(api, "/api/v1/customers/", {"name": "王", "mobile": "13800138000"}).status_code == 409


# The services -------------------------------------------------------------------------------------------------


def _fields(error: ValidationError) -> set[str]:
    return set(error.message_dict)


def test_lead_create_refuses_with_every_rule_at_once_and_writes_nothing(firm_a):
    with tenant_context(firm_a), translation.override("en"):
        someone = CustomerFactory()
        place = PropertyFactory(customer=someone)
        qc = MembershipFactory(tenant=firm_a, role="qc").user
        with pytest.raises(ValidationError) as refused:
            pipeline.lead_create(
                channel="online",
                name="王",
                mobile="13800138000",
                property=place,
                referrer=someone,
                budget_min=Decimal(9),
                budget_max=Decimal(1),
                designer=qc,
            )
        assert _fields(refused.value) == {"property", "referrer", "budget_max", "designer"}
        assert not Customer.objects.filter(mobile="13800138000").exists()


def test_lead_update_refuses_with_every_rule_at_once(firm_a):
    with tenant_context(firm_a):
        lead = LeadFactory(budget_max=Decimal(100))
        elsewhere = PropertyFactory()
        with pytest.raises(ValidationError) as refused:
            pipeline.lead_update(lead=lead, property=elsewhere, budget_min=Decimal(200))
        assert _fields(refused.value) == {"property", "budget_max"}


def test_lead_check_skips_a_rule_whose_values_it_was_not_given(firm_a):
    with tenant_context(firm_a):
        place = PropertyFactory()
        pipeline.lead_check(property=place)  # whose lead it is, not said: nothing to hold it against
        pipeline.lead_check(referrer=CustomerFactory())  # the channel not said
        pipeline.lead_check(budget_min=Decimal(9))
        with pytest.raises(ValidationError) as refused:
            pipeline.lead_check(customer=LeadFactory().customer, property=place, channel="phone", referrer=None)
        assert _fields(refused.value) == {"property"}


def test_customer_check_keeps_the_duplicate_code_for_the_api(firm_a):
    with tenant_context(firm_a):
        known = CustomerFactory(mobile="13800138000")
        customers.customer_check(customer=known, mobile="13800138000")
        with pytest.raises(ValidationError) as refused:
            customers.customer_check(mobile="+86 138 0013 8000")
        assert [e.code for e in refused.value.error_dict["mobile"]] == ["duplicate"]
