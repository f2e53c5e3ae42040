"""Notices to staff in the app (the bell): recorded beside every text or e-mail to staff, once per key, even
for someone with neither phone nor e-mail; the bell's polled count; the notices page; the API. Each person
sees only their own notices: anyone else's, in this firm or another, is 404."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from complaints.models import Complaint
from complaints.services.intake import complaint_open
from renocrm.accounts.models import Membership
from renocrm.outbox import services, staff_notices, tasks
from renocrm.outbox.models import Notification, StaffNotice
from renocrm.privacy.registry import ERASED
from renocrm.sessions import LAST_SEEN
from renocrm.tenancy.context import tenant_context
from tests.factories import ApiKeyFactory, MembershipFactory, StaffFactory, UserFactory
from tests.leads.factories import CustomerFactory
from tests.outbox.factories import StaffNoticeFactory, WebhookDeliveryFactory, WebhookEndpointFactory
from tests.worksites.test_portal_services import portal_worksite
from worksites.services import portal

NOTICES = "/api/v1/notices/"


@pytest.fixture
def me(firm_a):
    """A customer service agent of firm A with neither phone nor e-mail, signed in."""
    user = UserFactory(username="agent-a", email="", phone="")
    MembershipFactory(tenant=firm_a, user=user, role="customer_service")
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def notice(firm, user, **fields):
    """A notice in ``firm`` to ``user`` (None: to a colleague, another member of the firm)."""
    with tenant_context(firm):
        return StaffNoticeFactory(**({"user": user} if user else {}), **fields)


# Recording ------------------------------------------------------------------------------------------------------


def test_a_repeated_send_records_the_notice_once(firm, settings):
    user = StaffFactory(phone="13800138001")
    for _ in range(2):
        services.notify_staff(
            user, subject="Callback due", body="Call Wang", idempotency_key="k1", link="/callbacks/7/"
        )
    notice = StaffNotice.objects.get()
    assert (notice.user, notice.subject, notice.body, notice.link) == (
        user,
        "Callback due",
        "Call Wang",
        "/callbacks/7/",
    )
    assert notice.read_at is None
    assert Notification.objects.filter(idempotency_key="k1").count() == 1
    # The same key for another person is their own notice.
    services.notify_staff(StaffFactory(), subject="Callback due", body="Call Wang", idempotency_key="k1")
    assert StaffNotice.objects.count() == 2


def test_staff_without_phone_or_email_still_get_the_notice_in_the_app_and_count_as_told(firm):
    user = StaffFactory(phone="", email="")
    told = services.notify_staff(user, subject="Repair overdue", body="Repair #3", idempotency_key="k2")
    assert told == services.Told(in_app=True, message=None), "the bell alone is telling them"
    assert not Notification.objects.exists()
    assert StaffNotice.objects.get().user == user
    again = services.notify_staff(user, subject="Repair overdue", body="Repair #3", idempotency_key="k2")
    assert again == told and StaffNotice.objects.count() == 1, "told once, and still told when repeated"


def test_a_member_with_a_phone_is_told_in_the_app_and_by_text(firm):
    user = StaffFactory(phone="13800138002")
    told = services.notify_staff(user, subject="s", body="b", idempotency_key="k6")
    assert told.in_app and told.message == Notification.objects.get(idempotency_key="k6")
    assert told.message.recipient == "13800138002"


def test_nobody_and_people_who_are_gone_get_no_notice(firm):
    services.notify_staff(None, subject="s", body="b", idempotency_key="k3")
    services.notify_staff(StaffFactory(is_active=False), subject="s", body="b", idempotency_key="k4")
    assert not StaffNotice.objects.exists()


def test_someone_outside_the_firm_gets_the_text_but_no_notice_in_its_app(firm):
    outsider = UserFactory(phone="13800138009")
    told = services.notify_staff(outsider, subject="s", body="b", idempotency_key="k5")
    assert told is not None and not told.in_app and told.message.recipient == "13800138009"
    assert not StaffNotice.objects.exists()
    assert services.notify_staff(UserFactory(phone="", email=""), subject="s", body="b", idempotency_key="k7") is None


def test_someone_who_left_the_firm_gets_no_notice_in_its_app(firm):
    left = StaffFactory(phone="", email="")
    Membership.objects.filter(user=left, tenant=firm).update(is_active=False)
    assert services.notify_staff(left, subject="s", body="b", idempotency_key="k8") is None
    assert (
        staff_notices.staff_notices_record([{"user": left, "subject": "s", "body": "b", "idempotency_key": "k9"}]) == 0
    )
    assert not StaffNotice.objects.exists()


@pytest.mark.parametrize(
    ("link", "kept"),
    [
        ("/complaints/4/", "/complaints/4/"),
        ("/callbacks/?agent=mine", "/callbacks/?agent=mine"),
        ("https://crm.example.com/aftercare/repairs/9/", "/aftercare/repairs/9/"),
        ("https://evil.example.net/phish", ""),
        ("//evil.example.net/phish", ""),
        ("/\\evil.example.net", ""),
        ("javascript:alert(1)", ""),
        ("", ""),
    ],
)
def test_a_notice_links_only_to_a_page_of_the_app(link, kept, settings):
    settings.SITE_URL = "https://crm.example.com"
    assert staff_notices.staff_notice_link(link) == kept


def test_a_sweeps_batch_records_its_notices_in_one_insert_and_returns_the_messages(firm):
    texted, unreachable = StaffFactory(phone="13800138002"), StaffFactory(phone="", email="")
    notices = [
        {"user": texted, "subject": "3 callbacks", "body": "Queue", "idempotency_key": "b1", "link": "/callbacks/"},
        {"user": unreachable, "subject": "1 callback", "body": "Queue", "idempotency_key": "b2", "link": ""},
        {"user": None, "subject": "x", "body": "x", "idempotency_key": "b3"},
    ]
    with CaptureQueriesContext(connection) as queries:
        messages = services.notify_staff_many(notices)
    assert [q["sql"].split(" ", 1)[0] for q in queries.captured_queries] == ["SELECT", "INSERT"]  # the members
    assert [(m["recipient"], m["idempotency_key"]) for m in messages] == [("13800138002", "b1")]
    assert set(StaffNotice.objects.values_list("user", flat=True)) == {texted.pk, unreachable.pk}
    services.notify_staff_many(notices)
    assert StaffNotice.objects.count() == 2


def test_a_complaint_tells_its_owner_in_the_app_with_a_link_to_it(firm):
    owner = UserFactory(phone="", email="")
    MembershipFactory(tenant=firm, user=owner, role="customer_service")
    complaint = complaint_open(
        customer=CustomerFactory(),
        channel=Complaint.Channel.PHONE,
        category=Complaint.Category.QUALITY,
        description="The bathroom floor leaks",
        owner=owner,
    )
    notice = StaffNotice.objects.get(user=owner)
    assert notice.link == reverse("complaints:detail", args=[complaint.pk])
    assert f"#{complaint.pk}" in notice.subject


def test_a_disabled_webhook_tells_each_admin_in_the_app(firm):
    admin = UserFactory(phone="", email="")
    MembershipFactory(tenant=firm, user=admin, role="admin")
    endpoint = WebhookEndpointFactory(consecutive_failures=20, is_active=False, disabled_at=timezone.now())
    services._tell_admins_endpoint_disabled(endpoint, WebhookDeliveryFactory(endpoint=endpoint, last_status_code=500))
    assert StaffNotice.objects.get(user=admin).link == reverse("integrations:webhook", args=[endpoint.pk])


def test_notices_past_their_retention_are_purged_by_the_notification_sweep(firm_a):
    with tenant_context(firm_a):
        user = StaffFactory()
    with time_machine.travel(timezone.now() - staff_notices.RETENTION - timedelta(days=1)):
        old = notice(firm_a, user)
    with time_machine.travel(timezone.now() - staff_notices.RETENTION + timedelta(days=1)):
        kept = notice(firm_a, user)
    tasks.sweep_firm_notifications.delay(tenant_id=firm_a.pk)
    with tenant_context(firm_a):
        assert list(StaffNotice.objects.values_list("pk", flat=True)) == [kept.pk]
        assert old.pk not in StaffNotice.objects.values_list("pk", flat=True)


def test_a_customers_erasure_can_scrub_them_from_notices(firm):
    user = StaffFactory()
    StaffNoticeFactory(user=user, subject="Complaint: Wang Fang", body="Wang Fang (13800138000) called again")
    StaffNoticeFactory(user=user, subject="Other", body="Li Lei called")
    assert staff_notices.staff_notices_scrub(identifiers=["13800138000", "Wang Fang"], erased=ERASED) == 1
    scrubbed = StaffNotice.objects.get(subject__startswith="Complaint")
    assert (scrubbed.subject, scrubbed.body) == (f"Complaint: {ERASED}", f"{ERASED} ({ERASED}) called again")


# The bell ------------------------------------------------------------------------------------------------------


def test_every_staff_page_has_the_bell_which_polls_its_count(me):
    page = me.get(reverse("dashboard:home")).content.decode()
    assert 'data-testid="notice-bell"' in page
    assert f'hx-get="{reverse("notices:badge")}"' in page
    assert 'hx-trigger="load, every 60s"' in page


def test_no_bell_for_anyone_signed_out_nor_on_the_homeowner_portal(client, me, firm_a):
    assert "notice-bell" not in client.get(reverse("accounts:login")).content.decode()
    with tenant_context(firm_a):
        link = portal.portal_link_create(worksite=portal_worksite(), created_by=None)
    response = me.get(portal.portal_link_url(link))
    assert response.status_code == 200
    assert "notice-bell" not in response.content.decode()


def test_the_badge_counts_my_unread_notices_only_in_few_queries(me, firm_a, firm_b, django_assert_num_queries):
    badge = reverse("notices:badge")
    assert me.get(badge).content.decode().strip() == ""  # nothing unread: no badge
    for _ in range(3):
        notice(firm_a, me.user)
    notice(firm_a, me.user, read_at=timezone.now())
    notice(firm_a, None)  # a colleague's
    MembershipFactory(tenant=firm_b, user=me.user)
    notice(firm_b, me.user)  # mine, in the other firm
    me.get(badge)  # per-process caches warm
    # The session, the user and the membership, the firm's transaction and scope (4), and the count.
    with django_assert_num_queries(8):
        response = me.get(badge, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert '<span class="bell__badge" aria-hidden="true">3</span>' in response.content.decode()
    assert "no-cache" in response["Cache-Control"]


def test_the_badge_caps_its_count(me, firm_a):
    with tenant_context(firm_a):
        StaffNoticeFactory.create_batch(101, user=me.user)
    assert ">99+</span>" in me.get(reverse("notices:badge")).content.decode()


def test_the_badge_signed_out_stops_the_polling_instead_of_showing_the_sign_in_page(client):
    response = client.get(reverse("notices:badge"))
    assert response.status_code == 286 and response.content == b""


def test_polling_the_badge_does_not_keep_an_idle_session_alive(me):
    me.get(reverse("dashboard:home"))
    seen = Session.objects.get(session_key=me.session.session_key).get_decoded()[LAST_SEEN]
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        assert me.get(reverse("notices:badge")).status_code == 200
    assert Session.objects.get(session_key=me.session.session_key).get_decoded()[LAST_SEEN] == seen
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        me.get(reverse("dashboard:home"))
    assert Session.objects.get(session_key=me.session.session_key).get_decoded()[LAST_SEEN] > seen


# The notices page -----------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("english")
def test_the_page_lists_my_notices_newest_first_unread_highlighted(me, firm_a):
    read = notice(firm_a, me.user, subject="Older, read", read_at=timezone.now())
    unread = notice(firm_a, me.user, subject="Newer, unread")
    colleagues = notice(firm_a, None, subject="Not mine")
    page = me.get(reverse("notices:list")).content.decode()
    assert page.index(f'data-testid="notice-{unread.pk}"') < page.index(f'data-testid="notice-{read.pk}"')
    assert f'class="notice notice--unread" data-testid="notice-{unread.pk}"' in page
    assert f'class="notice" data-testid="notice-{read.pk}"' in page
    assert colleagues.subject not in page
    assert "1 unread" in page
    only_unread = me.get(reverse("notices:list"), {"unread": "1"}).content.decode()
    assert unread.subject in only_unread and read.subject not in only_unread


def test_the_page_pages_like_the_other_lists(me, firm_a):
    with tenant_context(firm_a):
        notices = StaffNoticeFactory.create_batch(51, user=me.user)
    page = me.get(reverse("notices:list")).content.decode()
    assert f'data-testid="notice-{notices[0].pk}"' not in page
    older = me.get(reverse("notices:list"), {"before": notices[1].pk}).content.decode()
    assert f'data-testid="notice-{notices[0].pk}"' in older


def test_opening_a_notice_marks_it_read_and_goes_to_its_page(me, firm_a):
    item = notice(firm_a, me.user, link="/complaints/12/")
    assert me.get(reverse("notices:open", args=[item.pk])).status_code == 405
    response = me.post(reverse("notices:open", args=[item.pk]))
    assert response.status_code == 302 and response.url == "/complaints/12/"
    with tenant_context(firm_a):
        first_read = StaffNotice.objects.get(pk=item.pk).read_at
    assert first_read is not None
    me.post(reverse("notices:open", args=[item.pk]))
    with tenant_context(firm_a):
        assert StaffNotice.objects.get(pk=item.pk).read_at == first_read  # when it was first read stays


def test_a_notice_without_a_page_opens_the_list(me, firm_a):
    item = notice(firm_a, me.user, link="")
    assert me.post(reverse("notices:open", args=[item.pk])).url == reverse("notices:list")


def test_mark_read_and_mark_all_read(me, firm_a):
    one, two, three = (notice(firm_a, me.user) for _ in range(3))
    colleagues = notice(firm_a, None)
    back = reverse("notices:list") + "?unread=1"
    response = me.post(reverse("notices:read", args=[one.pk]), {"next": back})
    assert response.url == back
    assert me.post(reverse("notices:read", args=[two.pk]), {"next": "https://evil.example.net/"}).url == reverse(
        "notices:list"
    )
    with tenant_context(firm_a):
        assert set(StaffNotice.objects.filter(read_at__isnull=True).values_list("pk", flat=True)) == {
            three.pk,
            colleagues.pk,
        }
    me.post(reverse("notices:read-all"))
    with tenant_context(firm_a):
        assert list(StaffNotice.objects.filter(read_at__isnull=True).values_list("pk", flat=True)) == [colleagues.pk]


def test_another_persons_notice_is_404_in_this_firm_and_in_another(me, firm_a, firm_b):
    colleagues = notice(firm_a, None)
    MembershipFactory(tenant=firm_b, user=me.user)
    mine_elsewhere = notice(firm_b, me.user)  # mine, but the session works in firm A
    for pk in (colleagues.pk, mine_elsewhere.pk):
        for name in ("notices:open", "notices:read"):
            assert me.post(reverse(name, args=[pk])).status_code == 404
    with tenant_context(firm_a):
        assert StaffNotice.objects.get(pk=colleagues.pk).read_at is None
    with tenant_context(firm_b):
        assert StaffNotice.objects.get(pk=mine_elsewhere.pk).read_at is None


# The API -------------------------------------------------------------------------------------------------------


def test_the_api_lists_my_notices_newest_first_with_a_cursor(me, firm_a):
    with tenant_context(firm_a):
        mine = StaffNoticeFactory.create_batch(3, user=me.user)
        StaffNoticeFactory()
    first = me.get(NOTICES, {"page_size": 2}).json()
    assert [row["id"] for row in first["results"]] == [mine[2].pk, mine[1].pk]
    assert set(first["results"][0]) == {"id", "subject", "body", "link", "created_at", "read_at", "updated_at"}
    rest = me.get(first["next"]).json()
    assert [row["id"] for row in rest["results"]] == [mine[0].pk] and rest["next"] is None


def test_the_api_filters_unread_and_marks_read(me, firm_a):
    read, unread = notice(firm_a, me.user, read_at=timezone.now()), notice(firm_a, me.user)
    assert [row["id"] for row in me.get(NOTICES, {"unread": "true"}).json()["results"]] == [unread.pk]
    assert [row["id"] for row in me.get(NOTICES, {"unread": "false"}).json()["results"]] == [read.pk]
    response = me.post(f"{NOTICES}{unread.pk}/read/")
    assert response.status_code == 200 and response.json()["read_at"] is not None
    assert me.get(NOTICES, {"unread": "true"}).json()["results"] == []


def test_the_api_marks_all_my_notices_read(me, firm_a):
    for _ in range(2):
        notice(firm_a, me.user)
    colleagues = notice(firm_a, None)
    assert me.post(f"{NOTICES}read-all/").json() == {"read": 2}
    assert me.post(f"{NOTICES}read-all/").json() == {"read": 0}
    with tenant_context(firm_a):
        assert StaffNotice.objects.get(pk=colleagues.pk).read_at is None


def test_the_api_answers_404_for_anyone_elses_notice(me, firm_a, firm_b):
    colleagues = notice(firm_a, None)
    other_firm = notice(firm_b, None)
    for pk in (colleagues.pk, other_firm.pk, other_firm.pk + 10**6):
        response = me.post(f"{NOTICES}{pk}/read/")
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


@pytest.mark.usefixtures("english")
def test_a_partners_api_key_has_no_notices(client, firm_a):
    with tenant_context(firm_a):
        key = ApiKeyFactory()
        item = StaffNoticeFactory()
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {key.raw_key}"}
    for response in (
        client.get(NOTICES, **headers),
        client.post(f"{NOTICES}{item.pk}/read/", **headers),
        client.post(f"{NOTICES}read-all/", **headers),
    ):
        assert response.status_code == 403
        error = response.json()["error"]
        assert error["code"] == "permission_denied" and "API key" in error["message"]
    with tenant_context(firm_a):
        assert StaffNotice.objects.get(pk=item.pk).read_at is None


def test_the_api_refuses_anyone_signed_out(client):
    assert client.get(NOTICES).status_code in (401, 403)
