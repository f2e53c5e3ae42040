"""Webhook signatures, Stripe-style: ``X-RenoCRM-Signature: t=<unix time>,v1=<hex>,v2=<hex>``. ``v2`` is
HMAC-SHA256 of ``"<t>.<delivery id>.<raw body>"`` under the endpoint's secret, so the delivery id
(``X-RenoCRM-Delivery``) is signed too; ``v1``, of ``"<t>.<raw body>"``, stays for receivers written before.
During a secret rotation a second ``v1=`` and ``v2=`` carry the signatures under the previous secret."""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "X-RenoCRM-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign_v2(secret: str, timestamp: int, delivery_id: str, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.{delivery_id}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(
    secrets: list[str], body: bytes, timestamp: int | None = None, delivery_id: str | None = None
) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    parts = [f"t={timestamp}", *(f"v1={sign(secret, timestamp, body)}" for secret in secrets)]
    if delivery_id is not None:
        parts += [f"v2={sign_v2(secret, timestamp, delivery_id, body)}" for secret in secrets]
    return ",".join(parts)


def verify(
    secret: str,
    header: str,
    body: bytes,
    tolerance: int = 300,
    now: float | None = None,
    delivery_id: str | None = None,
) -> bool:
    """True when one of the header's signatures is ``secret``'s and the timestamp is recent: its ``v2`` over
    ``delivery_id`` when one is given, else its ``v1``."""
    parts = [part.split("=", 1) for part in header.split(",") if "=" in part]
    timestamps = [value for key, value in parts if key == "t"]
    if len(timestamps) != 1 or not timestamps[0].isdigit():
        return False
    timestamp = int(timestamps[0])
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    if delivery_id is not None:
        expected, version = sign_v2(secret, timestamp, delivery_id, body), "v2"
    else:
        expected, version = sign(secret, timestamp, body), "v1"
    return any(hmac.compare_digest(expected, value) for key, value in parts if key == version)
