"""The code the integration guide (/integrations/guide/) shows partners. The page prints these functions'
source and fills the shell templates with the site's address, and the tests run the very same code (a real
webhook receiver verifies with ``verify_signature``; ``create_lead`` and ``list_all`` call the live API), so
the guide cannot drift from what works.

Partners copy these, so they use the standard library only and nothing from RenoCRM. The page leaves out
the linter's ``# noqa`` marks."""

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request


def verify_signature(secret: str, header: str, body: bytes, tolerance: int = 300, delivery_id: str = "") -> bool:
    """True when the X-RenoCRM-Signature header signs this raw body with your secret, made at most
    `tolerance` seconds ago. Pass the X-RenoCRM-Delivery header as `delivery_id`: the v2 signature covers it
    too (without it, the v1 signature of the body alone is checked). During a secret rotation the header
    carries two values of each version: either may match."""
    fields = [part.strip().split("=", 1) for part in header.split(",") if "=" in part]
    timestamps = [value for key, value in fields if key == "t"]
    if len(timestamps) != 1 or not timestamps[0].isdigit():
        return False
    timestamp = int(timestamps[0])
    if abs(time.time() - timestamp) > tolerance:
        return False  # too old (or from the future): a replayed request
    version, signed = ("v2", f"{timestamp}.{delivery_id}.") if delivery_id else ("v1", f"{timestamp}.")
    expected = hmac.new(secret.encode(), signed.encode() + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, value) for key, value in fields if key == version)


def call(request: urllib.request.Request, attempts: int = 5) -> dict:
    """Send a request and return its JSON answer; on 429, wait as long as Retry-After says and try again."""
    for _ in range(attempts):
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return json.load(response)
        except urllib.error.HTTPError as error:
            if error.code != 429:
                # Every error has the same body: {"error": {"status", "code", "message", "fields"}, "request_id"}
                raise RuntimeError(json.load(error)) from None
            time.sleep(int(error.headers.get("Retry-After", "1")))
    raise RuntimeError("still rate limited")


def create_lead(base_url: str, api_key: str, lead: dict, idempotency_key: str) -> dict:
    """Push a lead in. Send the same Idempotency-Key when you retry (after a timeout, say): the retry gets
    the first answer again and creates nothing."""
    request = urllib.request.Request(  # noqa: S310
        f"{base_url}/api/v1/leads/",
        data=json.dumps(lead).encode(),
        method="POST",
        headers={
            "Authorization": f"Api-Key {api_key}",
            "Content-Type": "application/json",
            "Idempotency-Key": idempotency_key,
        },
    )
    return call(request)


def list_all(base_url: str, api_key: str, path: str, page_size: int = 100):
    """Every row of a list, page after page, following each page's `next` link until it is null."""
    url = f"{base_url}{path}?page_size={page_size}"
    while url:
        page = call(urllib.request.Request(url, headers={"Authorization": f"Api-Key {api_key}"}))  # noqa: S310
        yield from page["results"]
        url = page["next"]


# Shell: the same requests with curl. ``{base_url}`` is filled in with the site's address.
CREATE_LEAD_CURL = """\
curl -sS -X POST '{base_url}/api/v1/leads/' \\
  -H "Authorization: Api-Key $RENOCRM_KEY" \\
  -H 'Content-Type: application/json' \\
  -H 'Idempotency-Key: expo-2026-0042' \\
  -d '{{"name": "王先生", "mobile": "13800138000", "budget_min": "150000", "core_needs": "kitchen and two baths"}}'"""

LIST_CURL = """\
curl -sS '{base_url}/api/v1/leads/?page_size=100&status=new' -H "Authorization: Api-Key $RENOCRM_KEY"
# then follow the "next" URL of each answer until it is null"""

# Shell: sign a body as RenoCRM does, to check your receiver (or to verify a delivery you logged).
SIGN_SHELL = """\
t=$(date +%s)
sig=$(printf '%s.%s' "$t" "$body" | openssl dgst -sha256 -hmac "$secret" | sed 's/^.* //')"""

SEND_SIGNED_CURL = """\
secret='whsec_…'   # your endpoint's secret
body='{{"id":1,"type":"lead.created","created_at":"2026-01-05T08:00:00+00:00","firm":"demo","data":{{"id":42}}}}'
{sign}
curl -sS -X POST 'https://your-receiver.example/renocrm' \\
  -H 'Content-Type: application/json' \\
  -H "X-RenoCRM-Signature: t=$t,v1=$sig" \\
  --data-raw "$body"
"""
