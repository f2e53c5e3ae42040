"""The address of the person at the other end of a request.

``REMOTE_ADDR`` is the peer that opened the connection: behind a load balancer or reverse proxy that is the
proxy, and the client's own address arrives in ``X-Forwarded-For``. That header is whatever the sender wrote,
so it is believed only as far as it was written by proxies we run: ``TRUSTED_PROXIES`` lists them (addresses
or networks). Walking the header from the right, each hop a trusted proxy appended is skipped, and the first
address not in the list is the client. With no trusted proxies (the default) the header is ignored entirely.

Everything that records or keys on a client address (portal signatures and actions, login throttling) asks
``client_ip`` so the rule is the same everywhere.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[_Network, ...]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(f"TRUSTED_PROXIES: {entry!r} is not an IP address or network.") from None
    return tuple(networks)


def trusted_networks() -> tuple[_Network, ...]:
    return _networks(tuple(settings.TRUSTED_PROXIES))


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    # "[2001:db8::1]:443" and "203.0.113.9:51234" are how some proxies write an address with its port.
    if value.startswith("[") and "]" in value:
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket ("::ffff:203.0.113.9") is that IPv4 client.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_trusted(address, networks) -> bool:
    return any(address.version == network.version and address in network for network in networks)


def client_ip(request) -> str | None:
    """The client's address as text, or None when the request does not say (a test client, a Unix socket)."""
    meta = getattr(request, "META", {})
    peer = _address(meta.get("REMOTE_ADDR", "") or "")
    if peer is None:
        return None
    networks = trusted_networks()
    if not networks or not _is_trusted(peer, networks):
        return str(peer)
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed(forwarded.split(",")):
        address = _address(hop)
        if address is None:
            # A hop we cannot read: whatever lies left of it was not vouched for by our proxies.
            break
        if not _is_trusted(address, networks):
            return str(address)
        peer = address
    # Every hop was one of our proxies (or the header was empty or unreadable): the nearest one we can name.
    return str(peer)
