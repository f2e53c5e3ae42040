"""Contact details masked for everyone not entitled to them — pages, API, logs — and revealing one is recorded."""

import io
import logging

import pytest

from renocrm.audit.models import AuditEvent
from renocrm.outbox.sms import ConsoleBackend, SmsMessage
from renocrm.privacy.masking import MaskContactsFilter, mask_address, mask_mobile, mask_recipient, mask_text
from renocrm.privacy.models import ContactReveal
from renocrm.tenancy.context import tenant_context
from tests.factories import ApiKeyFactory, MembershipFactory
from tests.leads.factories import CustomerFactory, LeadFactory, PropertyFactory

MOBILE = "13812341234"
ADDRESS = "上海市浦东新区世纪大道100号3栋1201"


def test_mobile_numbers_keep_the_first_three_and_last_four_digits():
    assert mask_mobile(MOBILE) == "138****1234"
    assert mask_mobile("") == "" and mask_mobile(None) == ""
    assert mask_mobile("12345") == "****"


def test_addresses_keep_only_their_start():
    assert mask_address(ADDRESS) == "上海市浦东新****"
    assert mask_address("浦东1号") == "浦东****"


def test_a_recipient_is_masked_as_an_email_address_or_a_mobile():
    assert mask_recipient("wang.fang@example.com") == "w***@example.com"
    assert mask_recipient(MOBILE) == "138****1234"
    assert mask_recipient("") == "" and mask_recipient(None) == ""


def test_mobile_numbers_inside_text_are_masked_but_longer_digit_runs_are_not():
    text = "SMS to 13812341234 and 15900001111; order 2026113812341234; amount 13812341234.00?"
    assert mask_text(text) == ("SMS to 138****1234 and 159****1111; order 2026113812341234; amount 138****1234.00?")


@pytest.fixture
def customer(firm_a):
    with tenant_context(firm_a):
        customer = CustomerFactory(name="王芳", mobile=MOBILE)
        PropertyFactory(customer=customer, address=ADDRESS)
        LeadFactory(customer=customer)
    return customer


def signed_in(client, firm, role):
    membership = MembershipFactory(tenant=firm, role=role)
    client.force_login(membership.user)
    return membership.user


# Pages -------------------------------------------------------------------------------------------------------


def test_pages_show_contacts_masked_with_a_reveal_button(client, firm_a, customer):
    signed_in(client, firm_a, "sales")
    for url in ("/leads/", f"/leads/customers/{customer.pk}/", "/leads/customers/"):
        html = client.get(url).content.decode()
        assert "138****1234" in html, url
        assert MOBILE not in html, url
        assert 'data-testid="reveal"' in html, url
    detail = client.get(f"/leads/customers/{customer.pk}/").content.decode()
    assert "上海市浦东新****" in detail and ADDRESS not in detail


def test_revealing_a_number_shows_it_and_records_who_looked(client, firm_a, customer):
    user = signed_in(client, firm_a, "customer_service")

    response = client.post(
        f"/privacy/reveal/leads.customer/{customer.pk}/mobile/", HTTP_REFERER=f"/leads/customers/{customer.pk}/"
    )

    assert response.status_code == 200
    assert f'href="tel:{MOBILE}"' in response.content.decode()
    with tenant_context(firm_a):
        reveal = ContactReveal.objects.get()
        assert (reveal.user_id, reveal.record_type, reveal.record_id, reveal.field) == (
            user.pk,
            "leads.customer",
            str(customer.pk),
            "mobile",
        )
        assert reveal.page == f"/leads/customers/{customer.pk}/"
        # The reveal is in the firm's audit trail with the person who looked.
        event = AuditEvent.objects.get(table_name="privacy_contactreveal")
        assert event.actor_id == user.pk


def test_revealing_an_address(client, firm_a, customer):
    signed_in(client, firm_a, "sales")
    with tenant_context(firm_a):
        place = customer.properties.get()
    response = client.post(f"/privacy/reveal/leads.property/{place.pk}/address/")
    assert ADDRESS in response.content.decode()


def test_a_role_without_the_contacts_permission_cannot_reveal_and_gets_no_button(client, firm_a, customer):
    signed_in(client, firm_a, "qc")
    response = client.post(f"/privacy/reveal/leads.customer/{customer.pk}/mobile/")
    assert response.status_code == 403
    assert MOBILE not in response.content.decode()
    with tenant_context(firm_a):
        assert not ContactReveal.objects.exists()


def test_revealing_needs_a_post_and_a_registered_field(client, firm_a, customer):
    signed_in(client, firm_a, "admin")
    assert client.get(f"/privacy/reveal/leads.customer/{customer.pk}/mobile/").status_code == 405
    assert client.post(f"/privacy/reveal/leads.customer/{customer.pk}/notes/").status_code == 404
    assert client.post(f"/privacy/reveal/accounts.user/{customer.pk}/mobile/").status_code == 404


def test_another_firms_customer_cannot_be_revealed(client, firm_a, firm_b, customer):
    signed_in(client, firm_b, "admin")
    response = client.post(f"/privacy/reveal/leads.customer/{customer.pk}/mobile/")
    assert response.status_code == 404
    assert MOBILE not in response.content.decode()


# API ---------------------------------------------------------------------------------------------------------


def api_key(firm, scopes):
    with tenant_context(firm):
        key = ApiKeyFactory(scopes=scopes)
    return {"HTTP_AUTHORIZATION": f"Api-Key {key.raw_key}"}


def test_a_partner_key_without_the_contacts_scope_gets_masked_contacts(client, firm_a, customer):
    headers = api_key(firm_a, ["leads:read"])
    listed = client.get("/api/v1/customers/", **headers).json()["results"]
    assert [row["mobile"] for row in listed] == ["138****1234"]
    assert client.get(f"/api/v1/customers/{customer.pk}/", **headers).json()["mobile"] == "138****1234"
    places = client.get(f"/api/v1/properties/?customer={customer.pk}", **headers).json()["results"]
    assert [row["address"] for row in places] == ["上海市浦东新****"]
    assert MOBILE not in client.get("/api/v1/customers/", **headers).content.decode()


def test_a_partner_key_with_the_contacts_scope_gets_full_contacts(client, firm_a, customer):
    headers = api_key(firm_a, ["leads:read", "contacts:read"])
    assert client.get(f"/api/v1/customers/{customer.pk}/", **headers).json()["mobile"] == MOBILE
    places = client.get(f"/api/v1/properties/?customer={customer.pk}", **headers).json()["results"]
    assert [row["address"] for row in places] == [ADDRESS]


def test_staff_with_the_contacts_permission_get_full_contacts_from_the_api(client, firm_a, customer):
    signed_in(client, firm_a, "sales")
    assert client.get(f"/api/v1/customers/{customer.pk}/").json()["mobile"] == MOBILE


def test_creating_a_customer_through_a_masked_key_answers_masked(client, firm_a):
    headers = api_key(firm_a, ["leads:read", "leads:write"])
    response = client.post(
        "/api/v1/customers/", {"name": "李雷", "mobile": "13900001111"}, content_type="application/json", **headers
    )
    assert response.status_code == 201, response.content
    assert response.json()["mobile"] == "139****1111"
    with tenant_context(firm_a):
        assert CustomerFactory._meta.model.objects.get(name="李雷").mobile == "13900001111"


# Logs --------------------------------------------------------------------------------------------------------


def test_every_log_handler_masks_mobile_numbers():
    # The handlers of the LOGGING setting (pytest adds capture handlers of its own).
    handlers = [handler for handler in logging.getLogger().handlers if handler.name == "console"]
    assert handlers
    assert all(any(isinstance(f, MaskContactsFilter) for f in handler.filters) for handler in handlers)

    stream = io.StringIO()
    handler = handlers[0]
    previous = handler.setStream(stream)
    try:
        logging.getLogger("renocrm.test").warning("Calling %s about %s", MOBILE, "callback 7")
    finally:
        handler.setStream(previous)
    line = stream.getvalue()
    assert "Calling 138****1234 about callback 7" in line and MOBILE not in line


def test_the_console_sms_backend_masks_the_recipient(capsys):
    ConsoleBackend().send(SmsMessage(MOBILE, "您好，回访链接 https://x/s/1", "key-1"))
    out = capsys.readouterr().out
    assert "138****1234" in out and MOBILE not in out and "https://x/s/1" in out


def test_the_reveal_button_speaks_chinese_to_a_chinese_user(client, firm_a, customer):
    signed_in(client, firm_a, "sales")
    html = client.get(f"/leads/customers/{customer.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert ">显示</button>" in html and "查看将被记录" in html
