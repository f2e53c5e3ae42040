"""The client address recorded with a homeowner's signature and keyed on by login throttling: X-Forwarded-For
counts only when the connection comes from one of our own proxies, and then only the hops they vouch for."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory, override_settings

from contracts import homeowner_links
from renocrm.clientip import client_ip
from renocrm.tenancy.context import tenant_context
from tests.contracts.test_pages import PNG
from tests.contracts.test_services import sent_version

PROXIES = ["10.0.0.0/8", "192.0.2.10"]


def request(remote_addr, forwarded=None):
    extra = {"REMOTE_ADDR": remote_addr}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_the_header_is_ignored():
    assert client_ip(request("203.0.113.7", "198.51.100.1")) == "203.0.113.7"


@override_settings(TRUSTED_PROXIES=PROXIES)
def test_a_header_from_an_untrusted_peer_is_ignored():
    # Someone on the internet writes the header themselves, naming one of our proxies to look trusted.
    assert client_ip(request("203.0.113.7", "10.0.0.1, 198.51.100.1")) == "203.0.113.7"


@override_settings(TRUSTED_PROXIES=PROXIES)
@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        ("198.51.100.1", "198.51.100.1"),
        # The client wrote a false address in front; our proxy appended the real one: the right-most wins.
        ("1.2.3.4, 198.51.100.1", "198.51.100.1"),
        # Through two of our proxies: their hops are skipped.
        ("1.2.3.4, 198.51.100.1, 10.1.2.3", "198.51.100.1"),
        (" 198.51.100.1:51234 ", "198.51.100.1"),
        ("[2001:db8::7]:443", "2001:db8::7"),
        # Nothing usable: the nearest proxy is named rather than a made-up address.
        ("", "10.0.0.5"),
        ("not-an-address", "10.0.0.5"),
        ("10.9.9.9", "10.9.9.9"),
    ],
)
def test_behind_a_trusted_proxy_the_right_most_untrusted_address_is_the_client(forwarded, expected):
    assert client_ip(request("10.0.0.5", forwarded)) == expected


@override_settings(TRUSTED_PROXIES=PROXIES)
def test_an_ipv4_peer_seen_through_an_ipv6_socket_is_matched_as_ipv4():
    assert client_ip(request("::ffff:192.0.2.10", "198.51.100.1")) == "198.51.100.1"


def test_no_address_is_none():
    assert client_ip(request("")) is None


@override_settings(TRUSTED_PROXIES=["10.0.0.0/33"])
def test_a_misspelt_proxy_network_is_refused_with_the_setting_named():
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        client_ip(request("10.0.0.5", "198.51.100.1"))


def accept(client, firm, **headers):
    with tenant_context(firm):
        version = sent_version()
        url = homeowner_links.url_for(version)
    client.post(url, {"name": "王芳", "signature": PNG, "agree": "on"}, **headers)
    with tenant_context(firm):
        version.refresh_from_db()
    assert version.status == "accepted"
    return version.accepted_ip


def test_a_spoofed_header_does_not_become_the_signatures_address(client, firm_a):
    assert accept(client, firm_a, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.100.1") == "203.0.113.7"


@override_settings(TRUSTED_PROXIES=PROXIES)
def test_behind_our_proxy_the_signature_records_the_homeowners_address(client, firm_a):
    address = accept(client, firm_a, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.1")
    assert address == "198.51.100.1"
