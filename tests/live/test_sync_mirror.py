"""A partner's mirror of leads and customers, kept as docs/api.md ("Incremental sync") tells: a first read by
``ordering=updated_at``, then polls with ``updated_after`` (the largest ``updated_at`` held, minus the overlap)
and the deletions feed — over HTTP against the served app, outside any test transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

import pytest

from renocrm.tenancy.context import tenant_context

pytestmark = pytest.mark.live

OVERLAP = timedelta(minutes=5)


class Mirror:
    """What the guide's recipe keeps: rows by id, the deletions applied."""

    def __init__(self, live, path: str, kind: str):
        self.live, self.path, self.kind = live, path, kind
        self.rows: dict[int, dict] = {}
        self.requests = 0

    def _pages(self, params: dict):
        path = f"{self.path}?{urlencode({'ordering': 'updated_at', 'page_size': 2, **params})}"
        while path:
            reply = self.live.call("GET", path, headers=self.live.firm_a.api)
            assert reply.status == 200, reply.body
            self.requests += 1
            answer = reply.json()
            yield from answer["results"]
            path = answer["next"] and (lambda url: f"{url.path}?{url.query}")(urlsplit(answer["next"]))

    def _watermark(self) -> str:
        newest = max(datetime.fromisoformat(row["updated_at"]) for row in self.rows.values())
        return (newest - OVERLAP).isoformat()

    def sync(self) -> None:
        params = {"updated_after": self._watermark()} if self.rows else {}
        for row in self._pages(params):
            held = self.rows.get(row["id"])
            if held is None or held["updated_at"] <= row["updated_at"]:
                self.rows[row["id"]] = row
        gone = Mirror(self.live, "/api/v1/deletions/", "")
        for deletion in gone._pages({"type": self.kind, **params}):
            self.rows.pop(deletion["id"], None)


def _created(live, body):
    reply = live.call("POST", "/api/v1/leads/", body=body, headers=live.firm_a.api)
    assert reply.status == 201, reply.body
    return reply.json()


def test_a_mirror_follows_creates_changes_and_erasures(live, live_db):
    from leads.models import Customer, Lead
    from leads.services.privacy import customer_erase

    firm = live.firm_a
    leads, customers = Mirror(live, "/api/v1/leads/", "leads"), Mirror(live, "/api/v1/customers/", "customers")
    leads.sync()
    customers.sync()
    with tenant_context(firm.tenant):
        assert set(leads.rows) == set(Lead.objects.values_list("pk", flat=True))
        assert set(customers.rows) == set(Customer.objects.values_list("pk", flat=True))
    assert leads.requests > 1  # it paged

    first = _created(live, {"name": "镜像一", "mobile": "13700000001", "channel": "online"})
    second = _created(live, {"name": "镜像二", "mobile": "13700000002", "channel": "referral"})
    for lead, body in ((first, {"status": "contacted"}), (second, {"status": "lost", "reason": "预算不够"})):
        changed = live.call("POST", f"/api/v1/leads/{lead['id']}/change-status/", body=body, headers=firm.api)
        assert changed.status == 200, changed.body
    leads.sync()
    customers.sync()
    assert leads.rows[first["id"]]["status"] == "contacted"
    assert second["id"] in leads.rows
    assert {first["customer"], second["customer"]} <= set(customers.rows)

    # The office erases the second homeowner on request: the customer leaves the mirror; the lead stays, anonymous.
    with tenant_context(firm.tenant):
        customer_erase(customer=Customer.objects.get(pk=second["customer"]))
    leads.sync()
    customers.sync()
    assert second["customer"] not in customers.rows
    assert "镜像二" not in str(leads.rows[second["id"]])
    with tenant_context(firm.tenant):
        assert set(customers.rows) == set(
            Customer.objects.filter(anonymised_at__isnull=True).values_list("pk", flat=True)
        )
