"""Where a webhook may be sent, and the one way it is sent there.

A firm chooses its endpoints' URLs, and the worker that posts to them sits inside our network. Without a guard
a URL could reach the database, Redis, the app's own internal pages or the cloud metadata service, and the
answer would come back to the firm through the delivery log. So:

- the scheme is https; plain http only where ``WEBHOOK_ALLOW_HTTP`` is on (development and tests);
- the host is resolved, and the URL refused when any address it resolves to is not a public unicast address:
  loopback, private (RFC 1918), shared (100.64/10), link-local (169.254/16, the metadata service), multicast,
  reserved, unspecified, IPv6 loopback, unique-local (fc00::/7) and link-local (fe80::/10), and the IPv4
  addresses carried inside IPv4-mapped, 6to4 and NAT64 IPv6 ones. ``WEBHOOK_ALLOW_PRIVATE_NETWORKS`` lifts
  this, deliberately. The check runs when an endpoint is saved and again at every send;
- the connection goes to the address that passed the check, never to what a second lookup returns, so a name
  whose DNS answer changes between check and connect ("DNS rebinding") gains nothing. The Host header, TLS
  SNI and the certificate check still use the URL's host name;
- redirects are not followed, and only a short snippet of the answer is kept.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

# What the delivery log keeps of an answer: enough to read a partner's error, not a page worth stealing.
RESPONSE_SNIPPET_CHARS = 256
_READ_BYTES = RESPONSE_SNIPPET_CHARS * 4  # UTF-8 takes up to 4 bytes a character
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedURL(Exception):
    """A URL a webhook may not go to; the message says why (a form field's error, the delivery log's)."""


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str  # the name as the URL gives it (IDNA-encoded), or an IP literal without brackets
    port: int
    target: str  # path and query
    addresses: tuple[str, ...]  # every address the host resolved to, each one checked


@dataclass(frozen=True)
class Answer:
    status: int | None
    body: str
    error: str


def is_public(address: IPAddress) -> bool:
    """A public unicast address: one a webhook may be sent to without WEBHOOK_ALLOW_PRIVATE_NETWORKS."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            if not is_public(embedded):
                return False
            if address.ipv4_mapped is not None:
                return True  # ::ffff:a.b.c.d is a.b.c.d
        if address.is_site_local:
            return False
    refused = (
        address.is_private,
        address.is_loopback,
        address.is_link_local,
        address.is_multicast,
        address.is_reserved,
        address.is_unspecified,
    )
    return address.is_global and not any(refused)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _parse(url: str) -> tuple[str, str, int, str]:
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname or ""
        if host and not host.isascii():
            host = host.encode("idna").decode("ascii")
    except (ValueError, UnicodeError) as error:
        raise RefusedURL(_("Enter a valid URL.")) from error
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or (scheme == "http" and not settings.WEBHOOK_ALLOW_HTTP):
        raise RefusedURL(_("The URL must use https."))
    if not host:
        raise RefusedURL(_("Enter a valid URL."))
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port or (443 if scheme == "https" else 80), target


def _resolve(host: str, port: int) -> tuple[str, ...]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return tuple(dict.fromkeys(info[4][0] for info in infos))


def _refuse_private(addresses: tuple[str, ...]) -> None:
    if settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS:
        return
    for address in addresses:
        if not is_public(ipaddress.ip_address(address)):
            # The address itself is not named: the firm would learn how our network resolves its names.
            raise RefusedURL(_("This URL resolves to a private address: webhooks are sent only to public addresses."))


def check_url(url: str) -> None:
    """Refuse (RefusedURL) a URL an endpoint may not be saved with. A name that does not resolve right now is
    let through: DNS may be down for a moment, and every send checks again before it connects."""
    _scheme, host, port, _target = _parse(url)
    try:
        addresses = _resolve(host, port)
    except OSError:
        return
    _refuse_private(addresses)


def destination(url: str) -> Destination:
    """The URL resolved once and checked: where a send may connect, and only there."""
    scheme, host, port, target = _parse(url)
    try:
        addresses = _resolve(host, port)
    except OSError as error:
        raise RefusedURL(_("The host name %(host)s could not be resolved.") % {"host": host}) from error
    _refuse_private(addresses)
    return Destination(scheme=scheme, host=host, port=port, target=target, addresses=addresses)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to one given address; the Host header is still the URL's host."""

    def __init__(self, host, port, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to one given address, with SNI and the certificate checked for the URL's host name."""

    def __init__(self, host, port, *, address: str, timeout: float, context: ssl.SSLContext | None = None):
        self.tls_context = context or ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls_context)
        self.address = address

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout)
        try:
            self.sock = self.tls_context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def post(url: str, body: bytes, headers: dict, *, timeout: float, tls_context: ssl.SSLContext | None = None) -> Answer:
    """POST ``body`` to ``url`` under the rules above. Never raises for the network's sake: a refusal, a
    connection failure or a redirect is an answer with ``error`` set. ``tls_context``: the default one
    (system CAs, hostname checked) unless a caller trusts something else."""
    try:
        where = destination(url)
    except RefusedURL as refusal:
        return Answer(None, "", str(refusal))
    connection, failures = None, []
    # Each checked address in turn, but only until one connects: nothing has been sent to those that did not,
    # while a request that failed after connecting may have arrived and is not sent twice.
    for address in where.addresses:
        if where.scheme == "https":
            candidate = _PinnedHTTPSConnection(
                where.host, where.port, address=address, timeout=timeout, context=tls_context
            )
        else:
            candidate = _PinnedHTTPConnection(where.host, where.port, address=address, timeout=timeout)
        try:
            candidate.connect()
        except OSError as error:
            candidate.close()
            failures.append(str(error) or error.__class__.__name__)
            continue
        connection = candidate
        break
    if connection is None:
        return Answer(None, "", "; ".join(failures)[:500])
    try:
        connection.request("POST", where.target, body=body, headers=headers)
        response = connection.getresponse()
        snippet = response.read(_READ_BYTES).decode(errors="replace")[:RESPONSE_SNIPPET_CHARS]
    except (OSError, http.client.HTTPException) as error:
        return Answer(None, "", (str(error) or error.__class__.__name__)[:500])
    finally:
        connection.close()
    error = ""
    if 300 <= response.status < 400:
        error = _("Redirects are not followed: a webhook goes only to the URL saved for its endpoint.")
    return Answer(response.status, snippet, error)
