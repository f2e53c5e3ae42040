"""The weekly progress digest: once per ISO week, from Monday 09:00 firm time, to worksites in progress."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core import signing
from django.utils import timezone

from renocrm.outbox import sms
from renocrm.outbox.models import Notification
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.models import Tenant
from tests.factories import TenantFactory
from tests.worksites.factories import PortalLinkFactory, ProgressUpdateFactory
from tests.worksites.test_portal_services import portal_worksite, still_clock  # noqa: F401 — the fixture
from worksites.models import PortalLink, Worksite
from worksites.services import portal as services
from worksites.tasks import portal as tasks

# Monday 7 December 2026 (ISO week 50) in Shanghai, UTC+8.
MONDAY_0830_SHANGHAI = datetime(2026, 12, 7, 0, 30, tzinfo=UTC)
MONDAY_0905_SHANGHAI = datetime(2026, 12, 7, 1, 5, tzinfo=UTC)


def link_named_in(body: str) -> int:
    token = re.search(r"/portal/([^/\s]+)/", body).group(1)
    return signing.loads(token, salt=services.SALT)[1]


def digests():
    return list(Notification.objects.filter(idempotency_key__startswith="weekly-digest:").order_by("id"))


def test_not_before_monday_nine_in_the_firms_zone_then_once_per_iso_week(firm_a):
    with tenant_context(firm_a):
        worksite = portal_worksite()
        assert services.weekly_digests_send(now=MONDAY_0830_SHANGHAI) == 0
        assert digests() == []
        assert services.weekly_digests_send(now=MONDAY_0905_SHANGHAI) == 1
        assert services.weekly_digests_send(now=MONDAY_0905_SHANGHAI + timedelta(hours=1)) == 0
        assert services.weekly_digests_send(now=MONDAY_0905_SHANGHAI + timedelta(days=4)) == 0
        [digest] = digests()
        assert digest.idempotency_key == f"weekly-digest:{worksite.pk}:2026-W50"
        assert (digest.channel, digest.recipient) == ("sms", "13800138000")
        # The next Monday morning is a new week.
        assert services.weekly_digests_send(now=MONDAY_0905_SHANGHAI + timedelta(days=7)) == 1
        assert [d.idempotency_key[-8:] for d in digests()] == ["2026-W50", "2026-W51"]


def test_a_utc_firm_waits_for_its_own_monday_morning(firm_a):
    firm_a.time_zone = "UTC"
    firm_a.save()
    with tenant_context(firm_a):
        portal_worksite()
        # 09:05 in Shanghai is 01:05 in London: not yet for this firm.
        assert services.weekly_digests_send(now=MONDAY_0905_SHANGHAI) == 0
        assert services.weekly_digests_send(now=datetime(2026, 12, 7, 9, 0, tzinfo=UTC)) == 1


def test_a_beat_down_on_monday_catches_up_later_in_the_week(firm_a):
    with tenant_context(firm_a):
        portal_worksite()
        assert services.weekly_digests_send(now=datetime(2026, 12, 10, 6, 0, tzinfo=UTC)) == 1  # Thursday
        assert digests()[0].idempotency_key.endswith("2026-W50")


def test_only_worksites_in_progress_get_a_digest(firm_a):
    with tenant_context(firm_a):
        running = portal_worksite()
        portal_worksite(project="Not started", mobile="13900000001", status=Worksite.Status.NOT_STARTED)
        portal_worksite(project="Handed over", mobile="13900000002", status=Worksite.Status.HANDED_OVER)
        assert services.weekly_digests_send(now=MONDAY_0905_SHANGHAI) == 1
        assert [d.idempotency_key for d in digests()] == [f"weekly-digest:{running.pk}:2026-W50"]


@pytest.mark.usefixtures("still_clock")
def test_the_digest_tells_the_week_and_carries_a_portal_link(firm_a, django_capture_on_commit_callbacks):
    firm_a.language = "en"
    firm_a.save()
    sms.outbox.clear()
    with tenant_context(firm_a):
        worksite = portal_worksite()
        # portal_worksite() dates its phases from the real today; the digest is read a day after that.
        now = timezone.now() + timedelta(days=1)
        for hours in (2, 30):
            ProgressUpdateFactory(worksite=worksite, posted_at=now - timedelta(hours=hours))
        ProgressUpdateFactory(worksite=worksite, posted_at=now - timedelta(hours=3), visible_to_homeowner=False)
        ProgressUpdateFactory(worksite=worksite, posted_at=now - timedelta(days=9))
        with django_capture_on_commit_callbacks(execute=True):
            services.weekly_digests_send(now=now, base_url="https://crm.example.com")
        link = PortalLink.objects.get()
    [message] = sms.outbox
    assert message.recipient == "13800138000"
    assert "2 new progress updates" in message.body
    assert "Finished: Waterproofing closed-water test" in message.body
    assert "1 item waits for your sign-off" in message.body
    assert f"Next: Masonry / tiling (planned {date.today().isoformat()}" in message.body
    assert f"https://crm.example.com{services.portal_link_url(link)}" in message.body
    assert link.is_usable and timedelta(days=13) < link.expires_at - timezone.now() <= timedelta(days=14)


def test_the_digest_reuses_a_link_with_a_week_left_and_replaces_one_about_to_expire(firm_a):
    with tenant_context(firm_a):
        lasting, ending = portal_worksite(), portal_worksite(project="Second flat", mobile="13900000003")
        kept = PortalLinkFactory(worksite=lasting, expires_at=MONDAY_0905_SHANGHAI + timedelta(days=20))
        short = PortalLinkFactory(worksite=ending, expires_at=MONDAY_0905_SHANGHAI + timedelta(days=3))
        PortalLinkFactory(
            worksite=ending, expires_at=MONDAY_0905_SHANGHAI + timedelta(days=30), revoked_at=timezone.now()
        )
        with time_machine.travel(MONDAY_0905_SHANGHAI, tick=False):
            assert services.weekly_digests_send() == 2
        assert list(PortalLink.objects.filter(worksite=lasting)) == [kept]
        new = PortalLink.objects.filter(worksite=ending).exclude(pk=short.pk).filter(revoked_at__isnull=True).get()
        assert new.expires_at == MONDAY_0905_SHANGHAI + timedelta(days=14)
        assert new.sent_to == "13900000003" and new.created_by is None
        by_site = {d.idempotency_key.split(":")[1]: d.body for d in digests()}
        assert link_named_in(by_site[str(lasting.pk)]) == kept.pk
        assert link_named_in(by_site[str(ending.pk)]) == new.pk


def test_the_hourly_sweep_reaches_every_active_firm_once_a_week(firm_a, firm_b, django_capture_on_commit_callbacks):
    dormant = TenantFactory(name="Dormant", slug="dormant", status=Tenant.Status.SUSPENDED)
    for firm in (firm_a, firm_b, dormant):
        with tenant_context(firm):
            portal_worksite()
    sms.outbox.clear()
    with time_machine.travel(MONDAY_0905_SHANGHAI), django_capture_on_commit_callbacks(execute=True):
        tasks.sweep_weekly_digests.delay()
        tasks.sweep_weekly_digests.delay()
    for firm, expected in ((firm_a, 1), (firm_b, 1), (dormant, 0)):
        with tenant_context(firm):
            assert len(digests()) == expected, firm
    assert len(sms.outbox) == 2 and all(m.idempotency_key.startswith("weekly-digest:") for m in sms.outbox)
    assert any("Firm A" in m.body for m in sms.outbox) and any("Firm B" in m.body for m in sms.outbox)
