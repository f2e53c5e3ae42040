"""My agenda: each kind of item on its firm-local day with its link, one's own and (for managers) the team's,
nothing of another firm; the same through the API (staff sessions only) and the private calendar feed, read
back with icalendar; a fixed number of queries whatever the rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aftercare.models import RepairRequest, RepairVisit
from callbacks.models import Callback, CallbackSettings
from complaints.models import Complaint
from contracts import tasks as contract_tasks
from contracts.services.measurement_reminders import measurement_reminders_send
from contracts.services.signing import contract_settings_get
from renocrm.accounts.calendar_feeds import calendar_feed_create
from renocrm.accounts.models import CalendarFeed, Membership
from renocrm.accounts.roles import Role
from renocrm.accounts.services import staff_deactivate, staff_reactivate
from renocrm.dashboard import agenda
from renocrm.outbox.models import Notification, StaffNotice
from renocrm.tenancy.context import tenant_context
from tests.accounts.factories import CalendarFeedFactory
from tests.aftercare.factories import RepairRequestFactory, RepairVisitFactory
from tests.callbacks.factories import CallbackFactory
from tests.complaints.factories import ComplaintFactory
from tests.contracts.factories import MeasurementAppointmentFactory, ProjectFactory
from tests.factories import MembershipFactory, UserFactory
from tests.leads.factories import LeadFactory, PropertyFactory
from tests.worksites.factories import InspectionFactory, SitePatrolFactory, WorksiteFactory
from worksites.models import Inspection
from worksites.services.gates import construction_settings_update
from worksites.services.staff_reminders import inspection_reminders_send, reminder_key
from worksites.tasks import reminders as worksite_tasks

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Wednesday 18 March 2026, 10:00 in Shanghai; its week runs from Monday 16 to Sunday 22 March.
NOW = datetime(2026, 3, 18, 10, 0, tzinfo=SHANGHAI)
TODAY = NOW.date()
ADDRESS = "上海市浦东新区锦绣路1号"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW.astimezone(UTC), tick=False):
        yield NOW


def member(firm, role=Role.ADMIN, **fields):
    user = UserFactory(**fields)
    MembershipFactory(tenant=firm, user=user, role=role)
    return user


def client_for(user, firm=None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    if firm is not None:
        session = client.session
        session["firm_id"] = firm.pk
        session.save()
    return client


def week_of_work(firm, user, *, tag: str = "") -> dict:
    """One item of every kind for ``user`` in the week of 16 March, at firm-local times chosen near midnight
    where a UTC day would put them on another day. Returns the records by kind."""
    with tenant_context(firm):
        home = PropertyFactory(address=ADDRESS)
        lead = LeadFactory(customer=home.customer, property=home, assigned_to=user, next_follow_up_on=date(2026, 3, 19))
        # 00:30 on Friday 20 March in Shanghai is still Thursday in UTC.
        measurement = MeasurementAppointmentFactory(lead=lead, designer=user, scheduled_at=at(20, 0, 30))
        project = ProjectFactory(lead=lead, property=home)
        worksite = WorksiteFactory(qc_inspector=user, contract__project=project)
        inspection = InspectionFactory(
            worksite=worksite,
            kind=Inspection.Kind.CONCEALED_WORKS,
            scheduled_on=date(2026, 3, 20),
            scheduled_time=time(14),
        )
        patrol = SitePatrolFactory(worksite=worksite, patrolled_by=user, patrolled_on=date(2026, 3, 17))
        callback = CallbackFactory(
            worksite=worksite, status=Callback.Status.OPEN, assigned_to=user, due_on=date(2026, 3, 18)
        )
        repair = RepairRequestFactory(
            project=worksite.project,
            assigned_to=user,
            status=RepairRequest.Status.OPEN,
            reported_at=at(16, 9),
            respond_by=at(17, 9),
            # 23:30 Thursday in Shanghai.
            on_site_by=at(19, 23, 30),
        )
        visit = RepairVisitFactory(
            repair=RepairRequestFactory(project=worksite.project, reported_at=at(15, 9)),
            kind=RepairVisit.Kind.VISIT,
            by=user,
            at=at(16, 11),
        )
        complaint = ComplaintFactory(
            project=worksite.project,
            owner=user,
            status=Complaint.Status.OPEN,
            opened_at=at(18, 8),
            respond_by=at(18, 14),
            resolve_by=at(21, 8),
        )
    return {
        "lead": lead,
        "measurement": measurement,
        "inspection": inspection,
        "patrol": patrol,
        "callback": callback,
        "repair": repair,
        "visit": visit,
        "complaint": complaint,
        "worksite": worksite,
    }


def items_by_day(response) -> dict[str, list[tuple[str, str]]]:
    """{day: [(kind, link)]} as the page shows them."""
    import re

    html = response.content.decode()
    found = {}
    for day, body in re.findall(r'data-testid="agenda-day" data-day="([0-9-]+)">(.*?)</section>', html, re.S):
        found[day] = re.findall(r'data-kind="([a-z_]+)">.*?class="agenda-item__title" href="([^"]+)"', body, re.S)
    return found


def test_each_kind_appears_on_its_firm_local_day_with_its_link(frozen, firm_a, english):
    user = member(firm_a)
    work = week_of_work(firm_a, user)
    response = client_for(user).get("/agenda/", {"view": "week"})
    assert response.status_code == 200
    site = f"/worksites/{work['worksite'].pk}/site/"
    complaint = f"/complaints/{work['complaint'].pk}/"
    assert items_by_day(response) == {
        "2026-03-16": [("repair_visit", f"/aftercare/repairs/{work['visit'].repair_id}/")],
        "2026-03-17": [("patrol", site)],
        "2026-03-18": [("callback", f"/callbacks/{work['callback'].pk}/"), ("complaint_response", complaint)],
        "2026-03-19": [
            ("follow_up", f"/leads/{work['lead'].pk}/"),
            ("repair_due", f"/aftercare/repairs/{work['repair'].pk}/"),
        ],
        "2026-03-20": [("measurement", f"/leads/{work['lead'].pk}/"), ("inspection", site)],
        "2026-03-21": [("complaint_resolution", complaint)],
        "2026-03-22": [],
    }
    html = response.content.decode()
    assert "00:30" in html and "14:00" in html and "23:30" in html, "times in the firm's zone"
    assert ADDRESS in html, "an admin sees the property's address"
    assert html.count("agenda-day--today") == 1


def test_the_day_view_and_its_neighbours(frozen, firm_a, english):
    user = member(firm_a)
    week_of_work(firm_a, user)
    client = client_for(user)
    today = client.get("/agenda/")
    assert [kind for kind, _ in items_by_day(today)["2026-03-18"]] == ["callback", "complaint_response"]
    friday = client.get("/agenda/", {"day": "2026-03-20"})
    assert list(items_by_day(friday)) == ["2026-03-20"]
    html = friday.content.decode()
    assert "day=2026-03-19" in html and "day=2026-03-21" in html, "previous and next day"
    assert client.get("/agenda/", {"day": "not a day"}).status_code == 200, "a bad day is today"


@pytest.mark.parametrize("view", ["day", "week"])
def test_a_day_at_the_calendars_ends_is_today_on_the_page(frozen, firm_a, view):
    client = client_for(member(firm_a))
    for day in ("9999-12-31", "9999-12-28", "0001-01-01", "0001-01-05"):
        response = client.get("/agenda/", {"view": view, "day": day})
        assert response.status_code == 200, day
        assert response.context["day"] == TODAY, day
    for day in (agenda.FIRST_DAY, agenda.LAST_DAY):
        response = client.get("/agenda/", {"view": view, "day": day.isoformat()})
        assert response.status_code == 200, day
        assert response.context["day"] == day


def test_the_api_refuses_a_day_at_the_calendars_ends(frozen, firm_a):
    client = client_for(member(firm_a))
    refused = {
        ("9999-12-31", ""): {"start"},
        ("0001-01-01", ""): {"start"},
        ("9998-12-31", "9999-01-01"): {"end"},
        ("", "0001-01-01"): {"end"},
        ("0001-01-01", "9999-12-31"): {"start", "end"},
    }
    for (start, end), fields in refused.items():
        params = {name: value for name, value in (("start", start), ("end", end)) if value}
        response = client.get(reverse("agenda-api"), params)
        assert response.status_code == 400, params
        assert set(response.json()["error"]["fields"]) == fields, params
    last = agenda.LAST_DAY.isoformat()
    assert client.get(reverse("agenda-api"), {"start": last}).status_code == 200
    first = agenda.FIRST_DAY.isoformat()
    assert client.get(reverse("agenda-api"), {"start": first, "end": first}).status_code == 200


def test_the_api_refuses_an_unknown_parameter_by_name_and_lists_the_known(frozen, firm_a):
    response = client_for(member(firm_a)).get(reverse("agenda-api"), {"strat": "2026-03-18"})
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"strat", "non_field_errors"}
    assert "start" in " ".join(fields["non_field_errors"])


def test_addresses_are_masked_for_a_reader_without_contact_details(frozen, firm_a, english):
    qc = member(firm_a, role=Role.QC)
    week_of_work(firm_a, qc)
    html = client_for(qc).get("/agenda/", {"view": "week"}).content.decode()
    assert ADDRESS not in html and "上海市浦东新" in html
    # A QC inspector opens no lead, callback or complaint pages: those kinds are not theirs to see.
    kinds = {
        kind for items in items_by_day(client_for(qc).get("/agenda/", {"view": "week"})).values() for kind, _ in items
    }
    assert kinds == {"inspection", "patrol"}


def test_a_member_sees_their_own_and_a_manager_their_teams(english, frozen, firm_a):
    admin = member(firm_a)
    designer, other = member(firm_a, role=Role.DESIGNER), member(firm_a, role=Role.DESIGNER)
    with tenant_context(firm_a):
        mine = MeasurementAppointmentFactory(lead=LeadFactory(), designer=designer, scheduled_at=at(18, 15))
        theirs = MeasurementAppointmentFactory(lead=LeadFactory(), designer=other, scheduled_at=at(18, 16))

    def leads_shown(client, **params):
        response = client.get("/agenda/", params)
        assert response.status_code == 200
        return [link for _, link in items_by_day(response)["2026-03-18"]]

    assert leads_shown(client_for(designer)) == [f"/leads/{mine.lead_id}/"]
    assert client_for(designer).get("/agenda/", {"who": other.pk}).status_code == 404
    assert client_for(designer).get("/agenda/", {"who": "team"}).status_code == 404, "no team to see"
    assert b'data-testid="agenda-who"' not in client_for(designer).get("/agenda/").content
    assert leads_shown(client_for(admin), who=other.pk) == [f"/leads/{theirs.lead_id}/"]
    assert leads_shown(client_for(admin), who="team") == [f"/leads/{mine.lead_id}/", f"/leads/{theirs.lead_id}/"]
    assert leads_shown(client_for(admin)) == [], "the admin's own agenda by default"
    assert b'data-testid="agenda-who"' in client_for(admin).get("/agenda/").content
    # A department head named in the callback settings picks among their department.
    with tenant_context(firm_a):
        CallbackSettings.objects.create(design_head=designer)
    head = client_for(designer)
    assert leads_shown(head, who=other.pk) == [f"/leads/{theirs.lead_id}/"]
    assert leads_shown(head, who="team") == [f"/leads/{mine.lead_id}/", f"/leads/{theirs.lead_id}/"]
    assert head.get("/agenda/", {"who": admin.pk}).status_code == 404, "not of the design department"
    assert "Agenda: " in head.get("/agenda/", {"who": other.pk}).content.decode()


def test_nothing_of_another_firm(frozen, firm_a, firm_b, english):
    admin_a, admin_b = member(firm_a), member(firm_b)
    week_of_work(firm_a, admin_a)
    week_of_work(firm_b, admin_b)
    client = client_for(admin_a)
    mine = items_by_day(client.get("/agenda/", {"view": "week", "who": "team"}))
    assert sum(len(items) for items in mine.values()) == 10, "firm B's equal week is not counted in"
    assert client.get("/agenda/", {"who": admin_b.pk}).status_code == 404
    assert client.get(reverse("agenda-api"), {"user": admin_b.pk}).status_code == 400
    unknown = client.get(reverse("agenda-api"), {"user": 10**9})
    foreign = client.get(reverse("agenda-api"), {"user": admin_b.pk})
    assert unknown.json()["error"]["fields"] == foreign.json()["error"]["fields"]


def test_the_api_answers_a_staff_session_and_refuses_a_partner_key(english, frozen, firm_a, partner):
    user = member(firm_a)
    work = week_of_work(firm_a, user)
    client = client_for(user)
    answer = client.get(reverse("agenda-api"), {"start": "2026-03-20", "end": "2026-03-20"})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["start"], body["end"], body["time_zone"], body["user"]) == (
        "2026-03-20",
        "2026-03-20",
        "Asia/Shanghai",
        user.pk,
    )
    measurement, inspection = body["items"]
    assert measurement["uid"] == f"measurement-{work['measurement'].pk}"
    assert measurement["start"] == "2026-03-20T00:30:00+08:00" and measurement["all_day"] is False
    assert measurement["url"].endswith(f"/leads/{work['lead'].pk}/")
    assert measurement["place"] == ADDRESS
    assert inspection["kind"] == "inspection" and inspection["start"] == "2026-03-20T14:00:00+08:00"
    week = client.get(reverse("agenda-api"))
    assert [item["day"] for item in week.json()["items"]][:2] == ["2026-03-18", "2026-03-18"], "today and 6 days on"

    refused = Client().get(reverse("agenda-api"), **partner.headers)
    assert refused.status_code == 403 and "API key" in refused.json()["error"]["message"]
    assert client.get(reverse("agenda-api"), {"start": "2026-03-20", "end": "2026-03-19"}).status_code == 400
    assert client.get(reverse("agenda-api"), {"start": "2026-03-01", "end": "2026-04-30"}).status_code == 400
    assert client.get(reverse("agenda-api"), {"since": "2026-03-01"}).status_code == 400
    # Last: an answer outside any firm marks the test's own transaction for rollback (renocrm/api/errors.py).
    assert Client().get(reverse("agenda-api")).status_code == 401


# --- The calendar feed ---------------------------------------------------------------------------------------


def feed_events(response) -> list:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/calendar")
    return list(icalendar.Calendar.from_ical(response.content).walk("VEVENT"))


def test_the_agenda_and_its_ics_feed_show_a_measurement(english, frozen, firm_a):
    designer = member(firm_a, role=Role.DESIGNER)
    with tenant_context(firm_a):
        home = PropertyFactory(address=ADDRESS)
        lead = LeadFactory(customer=home.customer, property=home)
        appointment = MeasurementAppointmentFactory(lead=lead, designer=designer, scheduled_at=at(19, 15))
    client = client_for(designer)
    page = client.get("/agenda/", {"day": "2026-03-19"})
    assert items_by_day(page) == {"2026-03-19": [("measurement", f"/leads/{lead.pk}/")]}
    assert f"Measurement: {home.customer.name}" in page.content.decode()

    profile = client.get("/accounts/profile/")
    assert b'data-testid="calendar-feed-none"' in profile.content
    made = client.post(reverse("accounts:calendar-feed-new"))
    assert made.status_code == 200 and "no-cache" in made["Cache-Control"]
    url = made.context["url"]
    assert url.startswith("http") and "/calendar/" in url and url.endswith(".ics")
    path = url[url.index("/calendar/") :]

    feed = Client().get(path)  # a phone: no session
    assert "max-age=300" in feed["Cache-Control"]
    calendar = icalendar.Calendar.from_ical(feed.content)
    assert calendar["X-WR-TIMEZONE"] == "Asia/Shanghai"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    [event] = feed_events(feed)
    assert str(event["SUMMARY"]) == f"Measurement: {home.customer.name}"
    assert event.decoded("DTSTART") == at(19, 15)
    assert event["DTSTART"].params["TZID"] == "Asia/Shanghai"
    assert event.decoded("DTEND") == at(19, 16)
    assert str(event["LOCATION"]) == ADDRESS
    assert str(event["URL"]).endswith(f"/leads/{lead.pk}/")
    assert event.decoded("DTSTAMP") == NOW.astimezone(UTC)
    uid = str(event["UID"])
    assert uid.startswith(f"measurement-{appointment.pk}.{firm_a.pk}@")
    [again] = feed_events(Client().get(path))
    assert str(again["UID"]) == uid, "the same event, updated rather than added"

    assert b'data-testid="calendar-feed-active"' in client.get("/accounts/profile/").content
    assert client.post(reverse("accounts:calendar-feed-revoke")).status_code == 302
    assert Client().get(path).status_code == 404
    with tenant_context(firm_a):
        assert CalendarFeed.objects.get().revoked_at is not None


def test_a_feed_shows_a_whole_day_item_as_a_date(frozen, firm_a, english):
    user = member(firm_a)
    with tenant_context(firm_a):
        LeadFactory(assigned_to=user, next_follow_up_on=date(2026, 3, 19))
        feed = CalendarFeedFactory(user=user)
    [event] = feed_events(Client().get(f"/calendar/{feed.token}.ics"))
    assert event.decoded("DTSTART") == date(2026, 3, 19) and event.decoded("DTEND") == date(2026, 3, 20)


def test_a_new_address_replaces_the_old_and_unknown_ones_are_404(frozen, firm_a):
    user = member(firm_a)
    with tenant_context(firm_a):
        old = CalendarFeedFactory(user=user)
        _feed, token = calendar_feed_create(user=user)
        assert CalendarFeed.objects.filter(revoked_at__isnull=True).count() == 1
    assert Client().get(f"/calendar/{old.token}.ics").status_code == 404
    assert Client().get(f"/calendar/{token}.ics").status_code == 200
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for wrong in (tampered, "0" * 12 + "_" + "x" * 43, "nonsense"):
        assert Client().get(f"/calendar/{wrong}.ics").status_code == 404, wrong


def test_a_feed_stops_when_its_owner_leaves_the_firm_or_the_firm_is_suspended(frozen, firm_a):
    user = member(firm_a)
    with tenant_context(firm_a):
        feed = CalendarFeedFactory(user=user)
    path = f"/calendar/{feed.token}.ics"
    assert Client().get(path).status_code == 200
    Membership.objects.filter(user=user, tenant=firm_a).update(is_active=False)
    assert Client().get(path).status_code == 404
    Membership.objects.filter(user=user, tenant=firm_a).update(is_active=True)
    firm_a.status = firm_a.Status.SUSPENDED
    firm_a.save(update_fields=["status"])
    assert Client().get(path).status_code == 404


def test_a_feed_does_not_come_back_when_its_owner_is_taken_on_again(frozen, firm_a):
    """Leaving revokes the address; one made before the person left stays dead even were its row missed, like
    their sessions. An address made after they come back works."""
    boss, user = member(firm_a), member(firm_a, role=Role.DESIGNER)
    with tenant_context(firm_a):
        feed = CalendarFeedFactory(user=user)
    path = f"/calendar/{feed.token}.ics"
    assert Client().get(path).status_code == 200
    with tenant_context(firm_a):
        membership = Membership.objects.get(user=user, tenant=firm_a)
        staff_deactivate(membership=membership, successors={}, by=boss)
        assert CalendarFeed.objects.get(pk=feed.pk).revoked_at is not None
        staff_reactivate(membership=membership, by=boss)
    assert Client().get(path).status_code == 404
    with tenant_context(firm_a):
        CalendarFeed.objects.filter(pk=feed.pk).update(revoked_at=None)
    user.refresh_from_db()
    assert user.sessions_ended_at == feed.created_at, "made at the very moment they left: on or before refuses"
    assert Client().get(path).status_code == 404
    with time_machine.travel(NOW.astimezone(UTC) + timedelta(minutes=1), tick=False):
        with tenant_context(firm_a):
            _feed, token = calendar_feed_create(user=user)
        assert Client().get(f"/calendar/{token}.ics").status_code == 200


def test_a_feed_reads_its_own_firm_only(frozen, firm_a, firm_b, english):
    """One person in two firms: each firm's address shows that firm's agenda, whichever firm the browser that
    opens it is signed in to."""
    user = member(firm_a)
    MembershipFactory(tenant=firm_b, user=user, role=Role.ADMIN)
    week_of_work(firm_a, user)
    with tenant_context(firm_b):
        LeadFactory(assigned_to=user, next_follow_up_on=date(2026, 3, 19))
        feed_b = CalendarFeedFactory(user=user)
    signed_in_to_a = client_for(user, firm_a)
    events = feed_events(signed_in_to_a.get(f"/calendar/{feed_b.token}.ics"))
    assert [str(event["UID"]).split(".")[0].split("-")[0] for event in events] == ["follow_up"]
    assert all(f".{firm_b.pk}@" in str(event["UID"]) for event in events)


# --- Query budgets --------------------------------------------------------------------------------------------

# The whole request (session, user, membership and firm; the feed's look-up of its token and firm), then one
# query per kind of item, and whom the reader may pick (the page always, the API for another's agenda).
BUDGETS = {"me": (18, 16, 20), "team": (18, 17, 20)}


def _count(client, url, params=None) -> int:
    client.get(url, params)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200, response.content[:300]
    return len(queries)


@pytest.mark.parametrize("who", BUDGETS)
def test_agenda_queries_do_not_grow_with_the_rows(frozen, firm_a, firm_b, who):
    small, large = member(firm_a), member(firm_b)
    week_of_work(firm_a, small)
    for _ in range(4):
        week_of_work(firm_b, large)
    with tenant_context(firm_a):
        small_feed = CalendarFeedFactory(user=small)
    with tenant_context(firm_b):
        large_feed = CalendarFeedFactory(user=large)
    counts = {}
    for name, user, feed in (("small", small, small_feed), ("large", large, large_feed)):
        client = client_for(user)
        counts[name] = (
            _count(client, "/agenda/", {"view": "week", "who": who}),
            _count(client, reverse("agenda-api"), {"user": who, "start": "2026-03-16", "end": "2026-03-22"}),
            _count(Client(), f"/calendar/{feed.token}.ics"),
        )
    assert counts["small"] == counts["large"], counts
    assert counts["large"] == BUDGETS[who], "(page, API, feed)"


def test_the_agenda_gathers_in_one_query_per_kind(frozen, firm_a):
    user = member(firm_a)
    week_of_work(firm_a, user)
    with tenant_context(firm_a):
        membership = Membership.objects.get(user=user, tenant=firm_a)
        with CaptureQueriesContext(connection) as queries:
            items = agenda.gather(
                membership=membership, staff=[user.pk], start=date(2026, 3, 16), end=date(2026, 3, 22)
            )
    assert len(items) == 9
    assert len(queries) == 8


# --- Reminders the day before -----------------------------------------------------------------------------------


def _sweep(firm, moment, sweeper):
    with time_machine.travel(moment.astimezone(UTC), tick=False), tenant_context(firm):
        return sweeper()


def _messages(prefix: str) -> list[Notification]:
    return list(Notification.objects.filter(idempotency_key__startswith=prefix).order_by("recipient"))


def test_a_measurement_is_reminded_once_to_the_homeowner_and_the_designer(english, firm_a):
    designer = member(firm_a, role=Role.DESIGNER, name="Li Designer", phone="13700137000")
    with tenant_context(firm_a):
        home = PropertyFactory(address=ADDRESS, customer__mobile="13800138000")
        lead = LeadFactory(customer=home.customer, property=home)
        appointment = MeasurementAppointmentFactory(lead=lead, designer=designer, scheduled_at=at(19, 15))
        MeasurementAppointmentFactory(lead=LeadFactory(), designer=designer, scheduled_at=at(20, 15))  # not yet
        MeasurementAppointmentFactory(
            lead=LeadFactory(), designer=designer, scheduled_at=at(19, 16), status="cancelled"
        )  # called off
    assert _sweep(firm_a, at(18, 8, 30), measurement_reminders_send) == 0, "not before nine"
    assert _sweep(firm_a, at(18, 9, 10), measurement_reminders_send) == 1
    assert _sweep(firm_a, at(18, 10, 10), measurement_reminders_send) == 0, "once"
    with tenant_context(firm_a):
        staff, homeowner = _messages("measurement-reminder:")  # by recipient
        assert homeowner.recipient == "13800138000" and homeowner.sms_template == "contracts.measurement_reminder"
        assert "2026-03-19 at 15:00" in homeowner.body and "Li Designer" in homeowner.body
        assert homeowner.sms_params["designer"] == "Li Designer" and homeowner.sms_params["time"] == "15:00"
        assert staff.recipient == "13700137000" and staff.sms_template == "staff.notice"
        assert ADDRESS in staff.body and f"/leads/{lead.pk}/" in staff.body
        assert staff.idempotency_key == f"measurement-reminder:{appointment.pk}:20260319T0700Z:{designer.pk}"
        assert StaffNotice.objects.get(user=designer).link == f"/leads/{lead.pk}/"


def test_measurement_reminders_follow_the_firms_setting(english, firm_a):
    designer = member(firm_a, role=Role.DESIGNER)
    with tenant_context(firm_a):
        MeasurementAppointmentFactory(lead=LeadFactory(), designer=designer, scheduled_at=at(20, 15))
        settings = contract_settings_get()
        settings.measurement_reminder_days_before = 0
        settings.save()
    assert _sweep(firm_a, at(18, 9, 10), measurement_reminders_send) == 0, "off"
    with tenant_context(firm_a):
        settings.measurement_reminder_days_before = 2
        settings.save()
    with time_machine.travel(at(18, 9, 10).astimezone(UTC), tick=False):
        contract_tasks.send_measurement_reminders.delay(tenant_id=firm_a.pk)
    with tenant_context(firm_a):
        assert len(_messages("measurement-reminder:")) == 2, "two days ahead: the homeowner and the designer"


def test_an_inspection_is_reminded_once_to_the_crew_who_take_part(english, firm_a):
    qc, foreman = member(firm_a, role=Role.QC), member(firm_a, role=Role.PROJECT_MANAGER)
    designer = member(firm_a, role=Role.DESIGNER)
    with tenant_context(firm_a):
        worksite = WorksiteFactory(qc_inspector=qc, project_manager=foreman, designer=designer)
        concealed = InspectionFactory(
            worksite=worksite,
            kind=Inspection.Kind.CONCEALED_WORKS,
            scheduled_on=date(2026, 3, 19),
            scheduled_time=time(14),
        )
        mid_term = InspectionFactory(worksite=worksite, kind=Inspection.Kind.MID_TERM, scheduled_on=date(2026, 3, 19))
        InspectionFactory(worksite=worksite, kind=Inspection.Kind.FINAL_ACCEPTANCE, scheduled_on=date(2026, 3, 21))
    assert _sweep(firm_a, at(18, 8, 59), inspection_reminders_send) == 0, "not before nine"
    assert _sweep(firm_a, at(18, 9, 5), inspection_reminders_send) == 2
    assert _sweep(firm_a, at(18, 12, 5), inspection_reminders_send) == 0, "once"
    with tenant_context(firm_a):
        sent = {
            (message.idempotency_key.split(":")[1], message.recipient) for message in _messages("inspection-reminder:")
        }
        assert sent == {
            (str(concealed.pk), qc.email),
            (str(concealed.pk), foreman.email),
            (str(mid_term.pk), qc.email),
            (str(mid_term.pk), foreman.email),
            (str(mid_term.pk), designer.email),  # the designer signs the mid-term inspection, not the concealed works
        }
        assert not _messages("inspection-notice:"), "the homeowner's notice is its own sweep"
        [message] = [
            m
            for m in _messages("inspection-reminder:")
            if m.idempotency_key.startswith(f"inspection-reminder:{concealed.pk}:")
        ][:1]
        assert "14:00" in message.body and f"/worksites/{worksite.pk}/site/" in message.body


def test_inspection_reminders_to_staff_follow_the_firms_setting(english, firm_a):
    qc = member(firm_a, role=Role.QC)
    with tenant_context(firm_a):
        InspectionFactory(worksite=WorksiteFactory(qc_inspector=qc), scheduled_on=date(2026, 3, 19))
        construction_settings_update(inspection_staff_reminder_days=0)
    assert _sweep(firm_a, at(18, 9, 5), inspection_reminders_send) == 0
    with tenant_context(firm_a):
        assert not _messages("inspection-reminder:")
        construction_settings_update(inspection_staff_reminder_days=1)
    with time_machine.travel(at(18, 9, 5).astimezone(UTC), tick=False):
        worksite_tasks.send_inspection_reminders.delay(tenant_id=firm_a.pk)
    with tenant_context(firm_a):
        assert [message.recipient for message in _messages("inspection-reminder:")] == [qc.email]


def test_an_inspection_reminder_reaches_the_bell_of_someone_with_neither_phone_nor_email(english, firm_a):
    """The notice in the app is owed too: a crew member with neither phone nor e-mail gets it, once, even
    when nobody else on the inspection is reminded."""
    qc = member(firm_a, role=Role.QC, phone="", email="")
    with tenant_context(firm_a):
        inspection = InspectionFactory(worksite=WorksiteFactory(qc_inspector=qc), scheduled_on=date(2026, 3, 19))
    assert _sweep(firm_a, at(18, 9, 5), inspection_reminders_send) == 1
    assert _sweep(firm_a, at(18, 10, 5), inspection_reminders_send) == 0, "once"
    with tenant_context(firm_a):
        [notice] = StaffNotice.objects.all()
        assert (notice.user, notice.idempotency_key) == (qc, reminder_key(inspection, qc.pk))
        assert not _messages("inspection-reminder:")


def test_an_inspection_reminder_is_not_owed_to_someone_who_left_the_firm(english, firm_a):
    qc = member(firm_a, role=Role.QC, phone="", email="")
    Membership.objects.filter(user=qc, tenant=firm_a).update(is_active=False)
    with tenant_context(firm_a):
        InspectionFactory(worksite=WorksiteFactory(qc_inspector=qc), scheduled_on=date(2026, 3, 19))
    assert _sweep(firm_a, at(18, 9, 5), inspection_reminders_send) == 0, "nothing owed, so nothing loops"
    with tenant_context(firm_a):
        assert not StaffNotice.objects.exists()
