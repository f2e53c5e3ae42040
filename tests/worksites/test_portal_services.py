"""The homeowner portal's links: signing, expiry, revocation, sending, the trail and the home page's reads."""

from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail, signing
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from renocrm.audit.models import AuditEvent
from renocrm.outbox import sms
from renocrm.outbox.models import Notification
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.models import Tenant
from tests.factories import StaffFactory
from tests.worksites.factories import (
    InspectionFactory,
    PhaseFactory,
    ProgressMediaFactory,
    ProgressUpdateFactory,
    WorksiteFactory,
)
from worksites.models import Phase, PhaseKind, PortalAction, PortalLink, Signoff, Worksite
from worksites.selectors import portal as selectors
from worksites.services import portal as services

PROJECT = "锦绣路12号 三室两厅"
CUSTOMER = "王芳"


def portal_worksite(*, project=PROJECT, customer=CUSTOMER, mobile="13800138000", **kwargs) -> Worksite:
    """A worksite in progress with a finished phase awaiting the homeowner and two phases to come.
    Call inside tenant_context(firm)."""
    worksite = WorksiteFactory(
        contract__project__name=project,
        contract__project__lead__customer__name=customer,
        contract__project__lead__customer__mobile=mobile,
        status=kwargs.pop("status", Worksite.Status.IN_PROGRESS),
        **kwargs,
    )
    today = date.today()
    PhaseFactory(
        worksite=worksite,
        position=1,
        kind=PhaseKind.WATERPROOFING_TEST,
        name="Waterproofing closed-water test",
        planned_start=today - timedelta(days=5),
        planned_end=today - timedelta(days=2),
        actual_start=today - timedelta(days=5),
        actual_end=today - timedelta(days=1),
        status=Phase.Status.DONE,
        requires_acceptance=True,
    )
    PhaseFactory(
        worksite=worksite,
        position=2,
        kind=PhaseKind.MASONRY,
        name="Masonry / tiling",
        planned_start=today,
        planned_end=today + timedelta(days=14),
    )
    PhaseFactory(
        worksite=worksite,
        position=3,
        kind=PhaseKind.CARPENTRY,
        name="Carpentry",
        planned_start=today + timedelta(days=15),
        planned_end=today + timedelta(days=27),
    )
    return worksite


@pytest.fixture
def still_clock():
    """A token is time-stamped to the second, so a URL built after a link was sent matches the one sent only
    while the clock stands still."""
    with time_machine.travel(timezone.now(), tick=False):
        yield


@pytest.mark.usefixtures("still_clock")
def test_a_link_opens_in_its_firm_and_records_the_opening_once_an_hour(firm_a):
    with tenant_context(firm_a):
        link = services.portal_link_create(worksite=portal_worksite(), created_by=None)
        token = services.portal_link_token(link)
    assert services.portal_link_url(link) == f"/portal/{token}/"
    for opening in range(3):
        with (
            CaptureQueriesContext(connection) as queries,
            services.open_link(token, ip_address="203.0.113.9", user_agent="Phone") as (opened, problem),
        ):
            assert problem is None and opened.pk == link.pk and opened.tenant == firm_a
        writes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(("UPDATE", "INSERT"))]
        assert writes if opening == 0 else not writes  # within the hour, opening again writes nothing
    with tenant_context(firm_a):
        opened = PortalAction.objects.get()
        assert (opened.action, opened.ip_address, opened.user_agent) == ("opened", "203.0.113.9", "Phone")
        assert PortalLink.objects.get().last_opened_at is not None
    with time_machine.travel(timezone.now() + timedelta(minutes=61)), services.open_link(token) as (opened, problem):
        assert problem is None
    with tenant_context(firm_a):
        assert PortalAction.objects.filter(action="opened").count() == 2


def test_tampered_foreign_expired_and_revoked_links_and_an_inactive_firm_do_not_open(firm_a, firm_b):
    with tenant_context(firm_a):
        link = services.portal_link_create(worksite=portal_worksite(), created_by=None, days=3)
        token = services.portal_link_token(link)
    checks = {
        token[:-3] + "abc": services.INVALID,
        signing.dumps([firm_a.pk, link.pk], salt="contracts.quotation-version-accept", compress=True): services.INVALID,
        # Right signature, but the row is not firm B's: firm B's scope finds nothing.
        signing.dumps([firm_b.pk, link.pk], salt=services.SALT, compress=True): services.INVALID,
        "not-a-token": services.INVALID,
    }
    for bad, reason in checks.items():
        with services.open_link(bad) as (opened, problem):
            assert opened is None and problem == reason
    with (
        time_machine.travel(timezone.now() + timedelta(days=3, minutes=1)),
        services.open_link(token) as (opened, problem),
    ):
        assert opened is None and problem == services.EXPIRED
    with tenant_context(firm_a):
        user = StaffFactory()
        services.portal_link_revoke(link=link, revoked_by=user)
        again = services.portal_link_revoke(link=link, revoked_by=None)
        assert again.revoked_by == user  # revoking twice keeps the first
    with services.open_link(token) as (opened, problem):
        assert opened is None and problem == services.REVOKED
    with tenant_context(firm_a):
        fresh = services.portal_link_create(worksite=link.worksite, created_by=None)
    firm_a.status = Tenant.Status.SUSPENDED
    firm_a.save()
    with services.open_link(services.portal_link_token(fresh)) as (opened, problem):
        assert opened is None and problem == services.UNAVAILABLE
    with tenant_context(firm_a):
        assert not PortalAction.objects.exists()


def test_a_link_lasts_one_to_365_days(firm_a):
    with tenant_context(firm_a):
        worksite = portal_worksite()
        for days in (0, 366):
            with pytest.raises(ValidationError) as refused:
                services.portal_link_create(worksite=worksite, created_by=None, days=days)
            assert "days" in refused.value.message_dict
        link = services.portal_link_create(worksite=worksite, created_by=None, days=7, sent_to="13800138000")
        assert timedelta(days=6, hours=23) < link.expires_at - timezone.now() <= timedelta(days=7)


@pytest.mark.usefixtures("still_clock")
def test_sending_by_sms_once_per_recipient_in_the_firms_language(firm_a, django_capture_on_commit_callbacks):
    sms.outbox.clear()
    with tenant_context(firm_a):
        link = services.portal_link_create(worksite=portal_worksite(), created_by=None)
        for _ in range(2):
            with django_capture_on_commit_callbacks(execute=True):
                services.portal_link_send(
                    link=link, channel="sms", recipient="138 0013 8000", base_url="https://crm.example.com/"
                )
        link.refresh_from_db()
        assert link.sent_to == "13800138000"
        with pytest.raises(ValidationError) as refused:
            services.portal_link_send(link=link, channel="sms", recipient="12345", base_url="https://x")
        assert "recipient" in refused.value.message_dict
    [message] = sms.outbox
    assert message.recipient == "13800138000"
    assert message.idempotency_key == f"portal-link:{link.pk}:sms:13800138000"
    url = f"https://crm.example.com{services.portal_link_url(link)}"
    assert url in message.body and "Firm A" in message.body and PROJECT in message.body
    assert "有效期至" in message.body or "valid until" in message.body


@pytest.mark.usefixtures("still_clock")
def test_sending_by_email_in_english_for_an_english_firm(firm_a, django_capture_on_commit_callbacks):
    firm_a.language = "en"
    firm_a.save()
    mail.outbox.clear()
    with tenant_context(firm_a):
        link = services.portal_link_create(worksite=portal_worksite(), created_by=None)
        with django_capture_on_commit_callbacks(execute=True):
            services.portal_link_send(link=link, channel="email", recipient="wang@example.com", base_url="https://x")
        with pytest.raises(ValidationError):
            services.portal_link_send(link=link, channel="email", recipient="not-an-address", base_url="https://x")
    [message] = mail.outbox
    assert message.to == ["wang@example.com"] and "Firm A" in message.subject
    assert "follow the works" in message.body and f"https://x{services.portal_link_url(link)}" in message.body


def test_a_revoked_or_expired_link_is_not_sent(firm_a):
    with tenant_context(firm_a):
        link = services.portal_link_create(worksite=portal_worksite(), created_by=None)
        services.portal_link_revoke(link=link, revoked_by=None)
        with pytest.raises(ValidationError):
            services.portal_link_send(link=link, channel="sms", recipient="13800138000", base_url="https://x")
        assert not Notification.objects.exists()


def test_issuing_a_link_that_cannot_be_sent_creates_nothing(firm_a):
    with tenant_context(firm_a):
        worksite = portal_worksite()
        with pytest.raises(ValidationError):
            services.portal_link_issue(
                worksite=worksite, created_by=None, channel="sms", recipient="555", base_url="https://x"
            )
        assert not PortalLink.objects.exists()
        link = services.portal_link_issue(worksite=worksite, created_by=None, channel="", base_url="https://x")
        assert link.is_usable and not Notification.objects.exists()


def test_an_action_through_the_link_is_signed_recorded_and_audited_as_the_link(firm_a):
    with tenant_context(firm_a):
        worksite = portal_worksite()
        inspection = InspectionFactory(worksite=worksite)
        other = InspectionFactory(worksite=WorksiteFactory())
        link = services.portal_link_create(worksite=worksite, created_by=None)
        token = services.portal_link_token(link)
    with services.open_link(token, ip_address="198.51.100.4", user_agent="Safari") as (opened, _):
        with pytest.raises(ValidationError):
            services.portal_inspection_sign(link=opened, inspection=other, name=CUSTOMER)
        services.portal_inspection_sign(
            link=opened, inspection=inspection, name=CUSTOMER, ip_address="198.51.100.4", user_agent="Safari"
        )
    with tenant_context(firm_a):
        signoff = Signoff.objects.get()
        assert (signoff.role, signoff.signed_name, signoff.portal_link_id) == ("homeowner", CUSTOMER, link.pk)
        assert signoff.ip_address == "198.51.100.4"
        action = PortalAction.objects.get(action="inspection_signed")
        assert (action.link_id, action.object_id, action.user_agent) == (link.pk, inspection.pk, "Safari")
        audited = AuditEvent.objects.get(table_name="worksites_signoff", row_id=str(signoff.pk))
        assert audited.request_id == f"portal-link:{link.pk}" and audited.actor_id is None


def test_the_home_page_reads_take_the_same_queries_for_a_small_and_a_big_worksite(
    firm_a, django_assert_num_queries, django_assert_max_num_queries
):
    with tenant_context(firm_a):
        worksite = portal_worksite()
        ProgressMediaFactory(update=ProgressUpdateFactory(worksite=worksite))
    with tenant_context(firm_a), django_assert_max_num_queries(20) as small:
        home = selectors.portal_home(worksite=worksite)
    assert len(home["photos"]) == 1 and [p.name for p in home["awaiting_acceptance"]] == [
        "Waterproofing closed-water test"
    ]
    with tenant_context(firm_a):
        for n in range(4, 12):
            day = date.today() + timedelta(days=30 + n)
            PhaseFactory(worksite=worksite, position=n, planned_start=day, planned_end=day)
        for _ in range(8):
            ProgressMediaFactory(update=ProgressUpdateFactory(worksite=worksite))
        ProgressMediaFactory(update=ProgressUpdateFactory(worksite=worksite, visible_to_homeowner=False))
    with tenant_context(firm_a), django_assert_num_queries(len(small.captured_queries)):
        home = selectors.portal_home(worksite=worksite)
    assert len(home["photos"]) == selectors.LATEST_PHOTOS and len(home["upcoming"]) == selectors.UPCOMING_PHASES
    assert all(photo.update.visible_to_homeowner for photo in home["photos"])
