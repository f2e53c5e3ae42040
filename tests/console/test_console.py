"""The operator console: only superusers reach it (everyone else gets a 404); the firm list and its figures in a
fixed number of queries; approving, suspending and reactivating a firm, each recorded with who, when and why;
what a suspended firm's users and partners are told; its beat sweeps skipped and its data kept."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from complaints import tasks as complaint_tasks
from leads.models import Lead
from renocrm.accounts.roles import Role
from renocrm.api.authentication import known_keys
from renocrm.api.models import ApiKey
from renocrm.console import services
from renocrm.console.models import FirmStatusChange
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.models import Tenant
from tests.complaints.conftest import team  # noqa: F401 — the fixture
from tests.complaints.test_services import open_complaint
from tests.factories import ApiKeyFactory, MembershipFactory, TenantFactory, UserFactory
from tests.leads.factories import LeadFactory
from tests.twofactor.support import enrol, verify_session

FIRMS = reverse("console:firms")


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def operator(db):
    return UserFactory(username="operator", name="Platform Operator", is_superuser=True, is_staff=True)


@pytest.fixture
def console(operator):
    """The operator signed in with both factors (the platform operator must have two-factor sign-in)."""
    device, _codes = enrol(operator)
    client = Client()
    client.force_login(operator)
    verify_session(client, device)
    return client


def firm_url(firm, action=""):
    return reverse(f"console:{action}" if action else "console:firm", args=[firm.slug])


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# Who reaches it -------------------------------------------------------------------------------------------------


def test_nobody_but_a_superuser_finds_the_console(firm_a, client):
    admin = MembershipFactory(tenant=firm_a, role=Role.ADMIN).user
    designer = MembershipFactory(tenant=firm_a, role=Role.DESIGNER).user
    staff_flag = UserFactory(is_staff=True)  # the Django admin's staff flag is not the operator's
    gone = UserFactory(is_superuser=True, is_active=False)
    firm_b = TenantFactory(slug="firm-b", status=Tenant.Status.PENDING)
    for someone in (client, *(signed_in(user) for user in (admin, designer, staff_flag, gone))):
        assert someone.get(FIRMS).status_code == 404
        assert someone.get(firm_url(firm_a)).status_code == 404
        for action in ("approve", "suspend", "reactivate"):
            assert someone.get(firm_url(firm_b, action)).status_code == 404
            assert someone.post(firm_url(firm_b, action), {"reason": "x"}).status_code == 404
    firm_b.refresh_from_db()
    assert firm_b.status == Tenant.Status.PENDING and not FirmStatusChange.objects.exists()


def test_the_services_refuse_anyone_but_an_operator(firm_a):
    admin = MembershipFactory(tenant=firm_a, role=Role.ADMIN).user
    for by in (None, admin):
        with pytest.raises(PermissionDenied):
            services.firm_suspend(firm=firm_a, by=by, reason="Unpaid")
    firm_a.refresh_from_db()
    assert firm_a.status == Tenant.Status.ACTIVE


# The list ---------------------------------------------------------------------------------------------------------


def test_the_list_shows_every_firm_with_its_figures(console, firm_a, firm_b):
    signed_in_at = timezone.now() - timedelta(days=2)
    MembershipFactory(tenant=firm_a, user=UserFactory(last_login=signed_in_at))
    MembershipFactory(tenant=firm_a, user=UserFactory(last_login=signed_in_at - timedelta(days=5)))
    MembershipFactory(tenant=firm_a, is_active=False, user=UserFactory(last_login=timezone.now()))
    firm_b.status = Tenant.Status.PENDING
    firm_b.save()

    response = console.get(FIRMS)

    assert response.status_code == 200
    rows = {firm.slug: firm for firm in response.context["firms"]}
    assert set(rows) == {"firm-a", "firm-b"}
    # The member who left counts for neither.
    assert (rows["firm-a"].member_count, rows["firm-a"].last_activity) == (2, signed_in_at)
    assert rows["firm-b"].member_count == 0 and rows["firm-b"].last_activity is None
    page = response.content.decode()
    assert "Firm A" in page and "awaiting approval" in page


def test_last_activity_is_the_latest_sign_in_of_any_member(console, firm_a):
    latest = timezone.now() - timedelta(hours=3)
    MembershipFactory(tenant=firm_a, user=UserFactory(last_login=latest - timedelta(days=9)))
    MembershipFactory(tenant=firm_a, user=UserFactory(last_login=latest))

    [firm] = console.get(FIRMS).context["firms"]

    assert firm.last_activity == latest


def test_search_by_name_or_by_a_members_e_mail_and_filter_by_status(console, firm_a, firm_b):
    MembershipFactory(tenant=firm_b, user=UserFactory(email="boss@firm-b.example"))
    TenantFactory(name="Pending Decor", slug="pending-decor", status=Tenant.Status.PENDING)

    def found(**query):
        return [firm.slug for firm in console.get(FIRMS, query).context["firms"]]

    assert found(q="firm a") == ["firm-a"]
    assert found(q="BOSS@firm-b.example") == ["firm-b"]
    assert found(status="pending") == ["pending-decor"]
    assert found(q="nothing like it") == []
    assert "No firms match." in console.get(FIRMS, {"q": "nothing like it"}).content.decode()


def test_the_list_costs_the_same_queries_however_many_firms(console, firm_a):
    def queries():
        console.get(FIRMS)
        with CaptureQueriesContext(connection) as captured:
            assert console.get(FIRMS).status_code == 200
        return len(captured)

    few = queries()
    for n in range(6):
        firm = TenantFactory(slug=f"more-{n}")
        MembershipFactory(tenant=firm, user=UserFactory(last_login=timezone.now()))
        FirmStatusChange.objects.create(firm=firm, from_status="trial", to_status="active")
    assert queries() == few


# Approve, suspend, reactivate -------------------------------------------------------------------------------------


def test_approving_a_waiting_firm_starts_its_trial_and_records_who(console, operator):
    firm = TenantFactory(name="New Decor", slug="new-decor", status=Tenant.Status.PENDING)
    admin = MembershipFactory(tenant=firm, role=Role.ADMIN).user
    assert "New Decor is awaiting approval" in signed_in(admin).get(reverse("dashboard:home")).content.decode()

    response = console.post(firm_url(firm, "approve"))

    assert response.status_code == 302 and response["Location"] == firm_url(firm)
    firm.refresh_from_db()
    assert (firm.status, firm.is_active) == (Tenant.Status.TRIAL, True)
    change = FirmStatusChange.objects.get()
    assert (change.firm, change.from_status, change.to_status, change.changed_by) == (
        firm,
        "pending",
        "trial",
        operator,
    )
    assert firm.status_changed_at == change.changed_at
    assert signed_in(admin).get(reverse("dashboard:home")).status_code == 200
    page = console.get(firm_url(firm)).content.decode()
    assert "The firm is approved." in page and "Platform Operator" in page


def test_a_firm_not_waiting_cannot_be_approved(console, firm_a):
    response = console.post(firm_url(firm_a, "approve"), follow=True)

    assert "Only a firm awaiting approval can be approved." in response.content.decode()
    firm_a.refresh_from_db()
    assert firm_a.status == Tenant.Status.ACTIVE and not FirmStatusChange.objects.exists()


def test_suspending_needs_a_reason(console, firm_a):
    response = console.post(firm_url(firm_a, "suspend"), {"reason": "  "}, follow=True)

    assert "This field is required." in response.content.decode()
    with pytest.raises(ValidationError) as refused:
        services.firm_suspend(firm=firm_a, by=response.wsgi_request.user, reason=" ")
    assert "reason" in refused.value.message_dict
    firm_a.refresh_from_db()
    assert firm_a.status == Tenant.Status.ACTIVE


@pytest.fixture
def firm_a_at_work(firm_a, partner):
    """Firm A with an admin, a designer, leads and a partner's key."""
    admin = MembershipFactory(tenant=firm_a, role=Role.ADMIN).user
    designer = MembershipFactory(tenant=firm_a, role=Role.DESIGNER).user
    with tenant_context(firm_a):
        LeadFactory.create_batch(3)
    return admin, designer, partner


def test_a_suspended_firms_users_are_told_why_and_its_data_is_kept(console, operator, firm_a, firm_a_at_work):
    admin, designer, _partner = firm_a_at_work

    response = console.post(firm_url(firm_a, "suspend"), {"reason": "Unpaid since March"})

    assert response.status_code == 302
    firm_a.refresh_from_db()
    assert (firm_a.status, firm_a.is_active) == (Tenant.Status.SUSPENDED, False)
    change = FirmStatusChange.objects.get()
    assert (change.from_status, change.to_status, change.reason, change.changed_by) == (
        "active",
        "suspended",
        "Unpaid since March",
        operator,
    )
    for user in (admin, designer):
        page = signed_in(user).get(reverse("dashboard:home"))
        assert page.status_code == 403
        text = page.content.decode()
        assert "The account of Firm A is suspended" in text and "Its data is kept" in text
        assert "not a member of any firm" not in text
        assert "The account of Firm A is suspended" in signed_in(user).get(reverse("accounts:no-firm")).content.decode()
    with tenant_context(firm_a):
        assert Lead.objects.count() == 3, "suspension keeps the firm's data"


# Served for real, a request whose key names no operating firm runs in no transaction; these run the same way,
# without the test's wrapping transaction.
@pytest.mark.django_db(transaction=True)
def test_a_suspended_firms_api_keys_get_a_clear_403_and_unknown_or_revoked_keys_still_401(firm_a):
    operator = UserFactory(is_superuser=True)
    with tenant_context(firm_a):
        partner = ApiKeyFactory()
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {partner.raw_key}"}
    client = Client()
    assert client.get("/api/v1/leads/", **headers).status_code == 200  # now remembered by this process

    services.firm_suspend(firm=firm_a, by=operator, reason="Unpaid")

    for _ in range(2):  # the remembered key, then the key looked up afresh
        refused = client.get("/api/v1/leads/", **headers)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "firm_suspended"
        assert refused.json()["error"]["message"] == "This firm's account is suspended."
    with tenant_context(firm_a):
        ApiKey.objects.filter(pk=partner.pk).update(revoked_at=timezone.now())
    known_keys.clear()
    assert client.get("/api/v1/leads/", **headers).status_code == 401
    assert client.get("/api/v1/leads/", HTTP_AUTHORIZATION="Api-Key rck_000000000000_nope").status_code == 401


def test_reactivating_gives_the_firm_back_as_it_was(console, operator, firm_a, firm_a_at_work):
    admin, designer, partner = firm_a_at_work
    services.firm_suspend(firm=firm_a, by=operator, reason="Unpaid")
    assert signed_in(admin).get(reverse("leads:list")).status_code == 403

    response = console.post(firm_url(firm_a, "reactivate"), {"reason": "Paid"})

    assert response.status_code == 302
    firm_a.refresh_from_db()
    assert (firm_a.status, firm_a.is_active) == (Tenant.Status.ACTIVE, True)
    assert list(FirmStatusChange.objects.order_by("pk").values_list("to_status", "reason")) == [
        ("suspended", "Unpaid"),
        ("active", "Paid"),
    ]
    leads = signed_in(admin).get(reverse("leads:list"))
    assert leads.status_code == 200 and len(leads.context["leads"]) == 3
    assert Client().get("/api/v1/leads/", **partner.headers).status_code == 200
    page = console.get(firm_url(firm_a)).content.decode()
    assert "Unpaid" in page and "Paid" in page


def test_a_trial_is_made_active_and_an_active_firm_needs_no_reactivating(console, operator, firm_a):
    trial = TenantFactory(slug="on-trial", status=Tenant.Status.TRIAL)
    services.firm_reactivate(firm=trial, by=operator)
    trial.refresh_from_db()
    assert trial.status == Tenant.Status.ACTIVE
    with pytest.raises(ValidationError):
        services.firm_reactivate(firm=firm_a, by=operator)
    services.firm_suspend(firm=firm_a, by=operator, reason="Fraud report")
    with pytest.raises(ValidationError):
        services.firm_suspend(firm=firm_a, by=operator, reason="Again")
    assert FirmStatusChange.objects.count() == 2


def test_the_firm_page_offers_the_actions_its_status_allows(console, firm_a):
    pending = TenantFactory(slug="waiting", status=Tenant.Status.PENDING)
    page = console.get(firm_url(pending)).content.decode()
    assert firm_url(pending, "approve") in page and firm_url(pending, "reactivate") not in page
    page = console.get(firm_url(firm_a)).content.decode()
    assert firm_url(firm_a, "suspend") in page and firm_url(firm_a, "approve") not in page
    assert console.get(reverse("console:firm", args=["no-such-firm"])).status_code == 404


# Beat ----------------------------------------------------------------------------------------------------------------

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def test_a_suspended_firms_sweeps_do_not_run_until_it_is_reactivated(firm_a, team, operator):  # noqa: F811
    with time_machine.travel(T0, tick=False), tenant_context(firm_a):
        complaint = open_complaint(team)
    services.firm_suspend(firm=firm_a, by=operator, reason="Unpaid")

    with time_machine.travel(T0 + timedelta(hours=5), tick=False):
        complaint_tasks.sweep_complaint_escalations.delay()
    with tenant_context(firm_a):
        complaint.refresh_from_db()
        assert complaint.level == 1, "the clock ran out, but beat skipped the suspended firm"

    services.firm_reactivate(firm=firm_a, by=operator)
    with time_machine.travel(T0 + timedelta(hours=5, minutes=5), tick=False):
        complaint_tasks.sweep_complaint_escalations.delay()
    with tenant_context(firm_a):
        complaint.refresh_from_db()
        assert complaint.level == 2
