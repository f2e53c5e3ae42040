"""Every staff page that lists rows answers in a fixed number of SQL queries, whatever the firm's size.

The firm is built twice — one renovation from first call to warranty repair, then four — with as many rows of
every kind under each record as there are renovations, so a list page, a record's page and its sub-lists all
grow. Each page must cost exactly its budget at both sizes. Pages come from the URL conf: a new page without a
budget fails until it is given one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver, reverse
from django.utils import timezone

from aftercare.models import RepairRequest
from callbacks.models import Callback
from complaints.models import Complaint
from contracts.models import ChangeOrder, QuotationVersion
from leads.models import Lead
from renocrm.accounts.models import Membership
from renocrm.accounts.roles import Role
from renocrm.dashboard.reports.catalogue import REPORTS
from renocrm.tenancy.context import get_current_tenant, tenant_context
from renocrm.tenancy.time import firm_today
from tests.accounts.factories import StaffChangeFactory, StaffInvitationFactory
from tests.aftercare.factories import (
    CoverageFactory,
    CoverageRuleFactory,
    RepairPhotoFactory,
    RepairRequestFactory,
    RepairVisitFactory,
    WarrantyCardFactory,
    WarrantyReminderFactory,
)
from tests.callbacks.factories import (
    CallbackAttemptFactory,
    CallbackFactory,
    CallbackStepFactory,
    FeedbackFollowUpFactory,
    SurveyDefectFactory,
    SurveyDemandFactory,
    SurveyFactory,
    SurveyMaterialFactory,
)
from tests.complaints.factories import ComplaintEntryFactory, ComplaintEscalationFactory, ComplaintFactory
from tests.contracts.factories import (
    ChangeOrderFactory,
    ChangeOrderLineFactory,
    ContractFactory,
    DesignAgreementFactory,
    InstalmentFactory,
    MainMaterialLineFactory,
    MeasurementAppointmentFactory,
    PricePackageFactory,
    PricePackageLineFactory,
    ProjectFactory,
    QuotationFactory,
    QuotationItemFactory,
    QuotationVersionFactory,
)
from tests.factories import ApiKeyFactory, AuditEventFactory, MembershipFactory, UserFactory
from tests.leads.factories import (
    CustomerFactory,
    FollowUpFactory,
    LeadFactory,
    LeadStatusChangeFactory,
    PropertyFactory,
    ReferralRewardFactory,
)
from tests.outbox.factories import (
    NotificationFactory,
    StaffNoticeFactory,
    WebhookDeliveryFactory,
    WebhookEndpointFactory,
)
from tests.privacy.factories import ContactRevealFactory, DataRequestFactory, FirmExportFactory
from tests.registry import _walk
from tests.worksites.factories import (
    AcceptanceItemFactory,
    AcceptanceItemTemplateFactory,
    HandoverDocumentFactory,
    HandoverFactory,
    InspectionFactory,
    MaterialArrivalFactory,
    PhaseFactory,
    PhaseTemplateFactory,
    PortalActionFactory,
    PortalLinkFactory,
    ProblemSolutionFactory,
    ProgressMediaFactory,
    ProgressUpdateFactory,
    RectificationItemFactory,
    SignoffFactory,
    SitePatrolFactory,
    SiteProblemFactory,
    TechnicalHandoverFactory,
    WorksiteFactory,
)
from worksites.models import Handover, Inspection, PhaseKind, Worksite

SMALL, LARGE = 1, 4
ROLES = [role.value for role in Role]


# --- The firm's records ---------------------------------------------------------------------------------------


@dataclass
class Staff:
    """One member of the firm per role; the admin is the one who reads the pages."""

    users: dict = field(default_factory=dict)

    def __getattr__(self, role):
        try:
            return self.__dict__["users"][role]
        except KeyError:
            raise AttributeError(role) from None


def make_staff(firm) -> Staff:
    staff = Staff()
    for role in ROLES:
        user = UserFactory(username=f"{role}-{firm.slug}", name=role.replace("_", " ").title())
        MembershipFactory(tenant=firm, role=role, user=user)
        staff.users[role] = user
    return staff


def crew(staff: Staff, i: int) -> Staff:
    """The firm's staff with another designer, project manager, QC inspector and agent."""
    firm = get_current_tenant()
    own = Staff(users=dict(staff.users))
    for role in ("designer", "project_manager", "qc", "customer_service"):
        user = UserFactory(username=f"{role}-{firm.slug}-{i}", name=f"{role.replace('_', ' ').title()} {i}")
        MembershipFactory(tenant=firm, role=role, user=user)
        own.users[role] = user
    return own


@dataclass
class World:
    """The first record of each kind, for the pages that show one record and its rows."""

    first: dict = field(default_factory=dict)

    def keep(self, key, obj):
        self.first.setdefault(key, obj)
        return obj


def build_world(firm, staff: Staff, n: int) -> World:
    """``n`` renovations from the first call to a warranty repair, each with ``n`` rows of every kind under its
    records, and ``n`` of each firm-wide setting row (plan steps, templates, rules, keys, webhooks)."""
    world = World()
    with tenant_context(firm):
        today, now = firm_today(), timezone.now()
        steps = [CallbackStepFactory(offset=i + 1) for i in range(n + 1)]
        for i in range(n):
            PhaseTemplateFactory()
            AcceptanceItemTemplateFactory()
            CoverageRuleFactory()
            ApiKeyFactory()
            # Every other endpoint was turned off after failing, so the integrations home lists it.
            endpoint = world.keep("webhook", WebhookEndpointFactory(disabled_at=now if i % 2 else None))
            for _ in range(n):
                WebhookDeliveryFactory(endpoint=endpoint)
            NotificationFactory()
            StaffNoticeFactory(user=staff.admin)
            AuditEventFactory(actor=staff.admin)
            DataRequestFactory(requested_by=staff.admin)
            FirmExportFactory(requested_by=staff.admin)
            ContactRevealFactory(user=staff.admin)
            StaffInvitationFactory(invited_by=staff.admin)
            StaffChangeFactory(member=staff.admin, by=staff.admin)
            # The item library: a package per row, the first with a line (and its item) per row, the others one.
            package = world.keep("package", PricePackageFactory())
            PricePackageLineFactory(package=world.first["package"], position=i)
            if i:
                PricePackageLineFactory(package=package)
        for i in range(n):
            _renovation(world, staff, n, i, steps, today, now)
        # The designer of every renovation: a member with open work in most kinds, for the staff pages.
        world.keep("membership", Membership.objects.get(tenant=firm, user=staff.users["designer"]))
    return world


def _renovation(world, staff, n, i, steps, today, now):
    """One homeowner's renovation: every record of it, each with ``n`` rows under it. Every other renovation
    has a crew of its own, so the rankings by staff member grow too."""
    if i % 2:
        staff = crew(staff, i)
    customer = world.keep("customer", CustomerFactory())
    home = PropertyFactory(customer=customer)
    lead = world.keep(
        "lead",
        LeadFactory(
            customer=customer,
            property=home,
            status=Lead.Status.WON,
            assigned_to=staff.admin,
            next_follow_up_on=today,
        ),
    )
    for _ in range(n - 1):
        PropertyFactory(customer=customer)
    # Leads the homeowner referred, still open, overdue for a call by the customer manager.
    referred = [
        LeadFactory(
            channel=Lead.Channel.REFERRAL,
            referrer=customer,
            status=Lead.Status.CONTACTED,
            assigned_to=staff.sales,
            next_follow_up_on=today - timedelta(days=2),
        )
        for _ in range(n)
    ]
    for referral in referred:
        ReferralRewardFactory(referrer=customer, lead=referral)
        FollowUpFactory(lead=referral, by=staff.sales)
    LeadFactory(status=Lead.Status.NEW, assigned_to=staff.admin, next_follow_up_on=today - timedelta(days=1))
    for _ in range(n):
        FollowUpFactory(lead=lead, by=staff.admin)
        LeadStatusChangeFactory(lead=lead, by=staff.sales)
    DesignAgreementFactory(lead=lead)
    MeasurementAppointmentFactory(lead=lead, designer=staff.designer)

    quotation = world.keep("quotation", QuotationFactory(lead=lead, created_by=staff.designer))
    # Items are written while a version is a draft; the database freezes them once it is sent.
    versions = [QuotationVersionFactory(quotation=quotation) for _ in range(n)]
    for v, version in enumerate(versions):
        for k in range(n):
            QuotationItemFactory(version=version, name=f"Item {k}", quantity=Decimal(10 + v), position=k)
    *sent, accepted = versions
    QuotationVersion.objects.filter(pk__in=[version.pk for version in sent]).update(status=QuotationVersion.Status.SENT)
    QuotationVersion.objects.filter(pk=accepted.pk).update(status=QuotationVersion.Status.ACCEPTED)
    accepted.refresh_from_db()
    world.keep("version", accepted)
    world.keep("other_version", versions[0])

    project = world.keep("project", ProjectFactory(lead=lead, customer=customer, property=home))
    contract = world.keep(
        "contract", ContractFactory(project=project, quotation_version=accepted, signed_by=staff.sales)
    )
    for seq in range(n):
        InstalmentFactory(contract=contract, sequence=seq + 1, due_on=today + timedelta(days=seq))
        MainMaterialLineFactory(contract=contract)
        order = ChangeOrderFactory(contract=contract, status=ChangeOrder.Status.DRAFT, created_by=staff.project_manager)
        world.keep("change_order", order)
        for _ in range(n):
            ChangeOrderLineFactory(change_order=order)

    # A deposit received before the schedule's instalments, so the payment register lists a row per renovation.
    InstalmentFactory(contract=contract, sequence=0, paid_on=today, recorded_by=staff.finance)

    worksite = world.keep(
        "worksite",
        WorksiteFactory(
            contract=contract,
            project=project,
            status=Worksite.Status.IN_PROGRESS,
            designer=staff.designer,
            project_manager=staff.project_manager,
            qc_inspector=staff.qc,
            customer_service=staff.customer_service,
        ),
    )
    TechnicalHandoverFactory(worksite=worksite, recorded_by=staff.project_manager)
    kinds = list(PhaseKind)
    for p in range(n):
        phase = PhaseFactory(
            worksite=worksite,
            position=p + 1,
            kind=kinds[p % len(kinds)],
            planned_start=today - timedelta(days=10 - p),
            planned_end=today + timedelta(days=p),
            status="in_progress" if p == 0 else "planned",
        )
        update = ProgressUpdateFactory(worksite=worksite, phase=phase, posted_by=staff.project_manager)
        ProgressMediaFactory(update=update)
        # One mid-term inspection waits at a time; the earlier ones failed and were redone.
        inspection = InspectionFactory(
            worksite=worksite,
            phase=phase,
            kind=Inspection.Kind.MID_TERM,
            created_by=staff.qc,
            result=Inspection.Result.PENDING if p == n - 1 else Inspection.Result.FAILED,
        )
        SignoffFactory(inspection=inspection, signed_by=staff.qc)
        MaterialArrivalFactory(worksite=worksite, recorded_by=staff.project_manager)
        SitePatrolFactory(worksite=worksite, patrolled_by=staff.project_manager)
        problem = SiteProblemFactory(worksite=worksite, phase=phase)
        ProblemSolutionFactory(problem=problem)
        link = PortalLinkFactory(worksite=worksite, created_by=staff.project_manager)
        PortalActionFactory(link=link)

    handover = world.keep(
        "handover",
        HandoverFactory(worksite=worksite, status=Handover.Status.IN_PROGRESS, started_by=staff.project_manager),
    )
    for _ in range(n):
        AcceptanceItemFactory(handover=handover, checked_by=staff.qc)
        RectificationItemFactory(handover=handover, owner=staff.project_manager, deadline=today - timedelta(days=1))
        HandoverDocumentFactory(handover=handover, uploaded_by=staff.project_manager)

    for c in range(n):
        coverage = CoverageFactory(
            project=project, starts_on=today - timedelta(days=700), ends_on=today + timedelta(days=10 + c)
        )
        WarrantyReminderFactory(coverage=coverage)
    final = contract.instalments.order_by("sequence").last()
    world.keep("warranty_card", WarrantyCardFactory(project=project, instalment=final))

    # Callbacks: the first due today with the agent, then surveyed ones and one gone overdue.
    for s, step in enumerate(steps):
        if s == 0:
            status, due, agent = Callback.Status.OPEN, today, staff.customer_service
        elif s % 2:
            status, due, agent = Callback.Status.COMPLETED, today - timedelta(days=s), staff.customer_service
        else:
            status, due, agent = Callback.Status.OPEN, today - timedelta(days=s), staff.admin
        callback = CallbackFactory(
            worksite=worksite,
            project=project,
            customer=customer,
            step=step,
            status=status,
            due_on=due,
            assigned_to=agent,
        )
        world.keep("callback", callback)
        CallbackAttemptFactory(callback=callback, by=agent)
        if status == Callback.Status.COMPLETED:
            survey = SurveyFactory(
                callback=callback,
                submitted_at=now,
                designer=staff.designer,
                project_manager=staff.project_manager,
                customer_service=staff.customer_service,
                lead=referred[0],
            )
            SurveyDefectFactory(survey=survey)
            SurveyDemandFactory(survey=survey)
            materials = [SurveyMaterialFactory(survey=survey, position=m) for m in range(n)]
            triggers = [{"question": "material", "answer": 2, "material": m.pk} for m in materials]
            follow_up = FeedbackFollowUpFactory(
                survey=survey, department="construction", owner=staff.project_manager, triggers=triggers
            )
            world.keep("follow_up", follow_up)

    for c in range(n):
        complaint = world.keep(
            "complaint",
            ComplaintFactory(
                project=project,
                customer=customer,
                level=1 + c % 3,
                status=Complaint.Status.IN_PROGRESS if c % 2 else Complaint.Status.OPEN,
                owner=staff.customer_service,
                opened_by=staff.customer_service,
            ),
        )
        for _ in range(n):
            ComplaintEntryFactory(complaint=complaint, by=staff.customer_service)
        ComplaintEscalationFactory(complaint=complaint, notified=staff.admin)

    for r in range(n):
        repair = world.keep(
            "repair",
            RepairRequestFactory(
                project=project,
                coverage=coverage,
                status=RepairRequest.Status.OPEN,
                assigned_to=staff.project_manager if r % 2 else None,
                created_by=staff.customer_service,
            ),
        )
        for _ in range(n):
            RepairVisitFactory(repair=repair, by=staff.project_manager)
        RepairPhotoFactory(repair=repair)


# --- The pages ------------------------------------------------------------------------------------------------

# Parts of the site that are not the staff's list pages: sign-in, the homeowner portal, the API, platform admin.
OUTSIDE = (
    *("accounts/", "api/", "platform-admin/", "portal/", "i18n/", "media/", "healthz", "readyz"),
    *("service-worker.js", "manifest.webmanifest"),  # static in all but name (worksites/views/offline.py)
    # Public sign-up; the operator console (superusers only, measured in tests/console).
    *("signup/", "console/"),
)

# Staff pages without parameters that only take a POST.
POST_ONLY = {"privacy:export-start", "notices:read-all"}

# Pages of one record and the rows under it: which record of the world each URL parameter names.
RECORD_PAGES = {
    "staff:detail": {"pk": "membership"},
    "staff:deactivate": {"pk": "membership"},
    "leads:detail": {"pk": "lead"},
    "leads:customer-detail": {"pk": "customer"},
    "contracts:detail": {"pk": "contract"},
    "contracts:change-order": {"pk": "change_order"},
    "contracts:version": {"pk": "version"},
    "contracts:version-compare": {"pk": "other_version", "other_pk": "version"},
    "contracts:package": {"pk": "package"},
    "worksites:detail": {"pk": "worksite"},
    "worksites:progress": {"pk": "worksite"},
    "worksites:site": {"pk": "worksite"},
    "worksites:handover": {"pk": "worksite"},
    "worksites:portal-links": {"pk": "worksite"},
    "aftercare:project": {"pk": "project"},
    "aftercare:warranty-card": {"pk": "warranty_card"},
    "aftercare:repair": {"pk": "repair"},
    "callbacks:detail": {"pk": "callback"},
    "callbacks:follow-up": {"pk": "follow_up"},
    "complaints:detail": {"pk": "complaint"},
    "integrations:webhook": {"pk": "webhook"},
}

# Pages every role reads differently: each role is measured on its own.
ROLE_PAGES = {
    "dashboard:home": ROLES,
    "callbacks:list": ["admin", "customer_service", "designer", "project_manager"],
}


def staff_pages() -> list[str]:
    """The page ids to measure: every parameterless staff page, the reports, the record pages above, and the
    role pages once per role (``name@role``)."""
    names = set()
    for route, name, pattern in _walk(get_resolver().url_patterns):
        if route.lstrip("^").startswith(OUTSIDE) or not pattern.name or pattern.pattern.converters or name in POST_ONLY:
            continue
        names.add(name)
    names |= {f"dashboard:report@{report.key}" for report in REPORTS}
    names |= {f"dashboard:report-download@{report.key}.{fmt}" for report in REPORTS for fmt in ("csv", "xlsx")}
    names |= RECORD_PAGES.keys()
    for name, roles in ROLE_PAGES.items():
        names.discard(name)
        names |= {f"{name}@{role}" for role in roles}
    return sorted(names)


# The whole request: session, membership and firm included.
PAGE_BUDGETS = {
    "dashboard:search": 15,
    # The staff pages read one query per kind of open work the apps register.
    "staff:deactivate": 26,
    "staff:detail": 26,
    "staff:duties": 9,
    "staff:invite": 8,
    "staff:list": 11,
    "aftercare:expiring": 10,
    "aftercare:list": 9,
    "aftercare:project": 16,
    "aftercare:referral-rewards": 9,
    "aftercare:repair": 12,
    "aftercare:repair-new": 9,
    "aftercare:rules": 9,
    "aftercare:settings": 9,
    "aftercare:warranty-card": 9,
    "audit:list": 11,  # one of them names every record the page mentions (renocrm/audit/records.py)
    "callbacks:detail": 13,
    "callbacks:list@admin": 11,
    "callbacks:list@customer_service": 11,
    "callbacks:list@designer": 11,
    "callbacks:list@project_manager": 11,
    "callbacks:follow-ups": 10,
    "callbacks:follow-up": 10,
    "callbacks:plan": 9,
    "callbacks:settings": 13,
    "complaints:board": 12,
    "complaints:detail": 12,
    "complaints:list": 10,
    "complaints:new": 8,
    "complaints:report": 15,
    "complaints:settings": 11,
    "contracts:change-order": 11,
    "contracts:change-orders": 10,
    "contracts:detail": 13,
    "contracts:list": 9,
    "contracts:quotations": 9,
    "contracts:settings": 9,
    "contracts:package": 10,
    "contracts:package-create": 8,
    "contracts:packages": 9,
    "contracts:price-item-create": 8,
    "contracts:price-items": 9,
    "contracts:price-items-export": 8,
    "contracts:price-items-import": 8,
    "contracts:price-items-suggest": 8,
    "contracts:version": 14,
    "contracts:version-compare": 12,
    "dashboard:home@admin": 21,
    "dashboard:home@customer_service": 13,
    "dashboard:home@designer": 14,
    "dashboard:home@finance": 11,
    "dashboard:home@project_manager": 14,
    "dashboard:home@qc": 12,
    "dashboard:home@sales": 11,
    "dashboard:report-download@callbacks.csv": 13,
    "dashboard:report-download@callbacks.xlsx": 13,
    "dashboard:report-download@complaints.csv": 12,
    "dashboard:report-download@complaints.xlsx": 12,
    "dashboard:report-download@leads.csv": 9,
    "dashboard:report-download@leads.xlsx": 9,
    "dashboard:report-download@satisfaction.csv": 21,
    "dashboard:report-download@satisfaction.xlsx": 21,
    "dashboard:report@callbacks": 14,
    "dashboard:report@complaints": 13,
    "dashboard:report@leads": 10,
    "dashboard:report@satisfaction": 22,
    "dashboard:reports": 8,
    # One query per kind of agenda item and one for the members the admin may pick (renocrm/dashboard/agenda.py).
    "dashboard:agenda": 18,
    "dashboard:receivables": 13,
    "dashboard:payments": 14,
    "integrations:guide": 14,
    "integrations:home": 11,
    "integrations:key-create": 8,
    "integrations:keys": 9,
    "integrations:webhook": 10,
    "integrations:webhook-create": 8,
    "integrations:webhooks": 9,
    "leads:board": 10,
    "leads:create": 9,
    "leads:customer-create": 8,
    "leads:customer-detail": 12,
    "leads:customer-list": 9,
    "leads:detail": 16,
    "leads:follow-ups": 11,
    "leads:list": 9,
    "notices:badge": 8,  # polled every minute by every page: the count alone
    "notices:list": 10,  # the page and the unread count
    "outbox:notice-settings": 12,
    "outbox:robot-create": 8,
    "privacy:home": 13,  # one of them names the records of the requests and reveals
    "worksites:acceptance-template": 9,
    "worksites:board": 9,
    "worksites:detail": 13,
    "worksites:handover": 14,
    "worksites:list": 9,
    "worksites:portal-links": 11,
    "worksites:progress": 13,
    "worksites:rectification-items": 9,
    "worksites:site": 18,
    "worksites:template": 9,
    "worksites:construction-settings": 9,
    "tenancy:settings": 8,
    "tenancy:firm-profile": 8,
}

# Pages that show settings or a form rather than the world's rows: their content need not grow.
# Lists whose first page is already full with one renovation: every write of the small firm is an audit event,
# more than the page's 50 rows, so the larger firm cannot show more (their budgets are still checked).
FULL_AT_BOTH_SIZES = {"audit:list"}

NOT_LISTS = {
    "staff:detail",
    "staff:duties",
    "staff:invite",
    "aftercare:repair-new",
    "aftercare:settings",
    "callbacks:settings",
    "complaints:new",
    "complaints:settings",
    "contracts:package-create",
    "contracts:price-item-create",
    "contracts:price-items-import",
    "contracts:settings",
    "dashboard:reports",
    "integrations:guide",
    "integrations:key-create",
    "integrations:webhook-create",
    "leads:create",
    "leads:customer-create",
    "notices:badge",
    "outbox:notice-settings",
    "outbox:robot-create",
    "worksites:construction-settings",
    "tenancy:settings",
    "tenancy:firm-profile",
}


def page_request(page: str, world: World) -> tuple[str, str]:
    """(url, role of the reader) of a page id."""
    name, _, extra = page.partition("@")
    if name == "dashboard:report":
        return reverse(name, kwargs={"key": extra}), "admin"
    if name == "dashboard:report-download":
        key, fmt = extra.split(".")
        return reverse(name, kwargs={"key": key, "fmt": fmt}), "admin"
    if name in RECORD_PAGES:
        kwargs = {param: world.first[record].pk for param, record in RECORD_PAGES[name].items()}
        return reverse(name, kwargs=kwargs), "admin"
    if name == "dashboard:search":
        # Words every customer of the world matches (their factory names), so each kind finds rows.
        return f"{reverse(name)}?q=业主", "admin"
    return reverse(name), extra or "admin"


PAGES = staff_pages()


def test_every_staff_page_has_a_budget():
    missing = [page for page in PAGES if page not in PAGE_BUDGETS]
    assert not missing, (
        f"Staff pages without a query budget: {missing}. Add each to PAGE_BUDGETS in {__name__} with the number "
        "of queries it takes (run this test file to see the counts measured)."
    )
    assert not set(PAGE_BUDGETS) - set(PAGES), "budgets of pages that no longer exist"


@pytest.fixture(autouse=True)
def mid_month():
    """A Wednesday in mid-month, so every dated row falls in the pages' current periods whatever today is."""
    with time_machine.travel(datetime(2026, 3, 18, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=True):
        yield


def measure(pages, clients, world) -> dict[str, tuple[int, int]]:
    """{page: (queries, bytes)}; each page is requested once first, so per-process caches are warm."""
    found = {}
    for page in pages:
        url, role = page_request(page, world)
        client = clients[role]
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (page, url, response.status_code)
        found[page] = (len(queries), len(response.content))
    return found


def signed_in(staff: Staff) -> dict[str, Client]:
    clients = {}
    for role in ROLES:
        clients[role] = Client()
        clients[role].force_login(getattr(staff, role))
    return clients


def test_notice_pages_cost_their_budget_at_two_sizes(firm_a, firm_b):
    """The notices page and the bell's count alone (the whole run below measures them with every page)."""
    pages = [page for page in PAGES if page.startswith("notices:")]
    small_staff, large_staff = make_staff(firm_a), make_staff(firm_b)
    small_world = build_world(firm_a, small_staff, SMALL)
    large_world = build_world(firm_b, large_staff, LARGE)
    small = measure(pages, signed_in(small_staff), small_world)
    large = measure(pages, signed_in(large_staff), large_world)
    assert {page: (small[page][0], large[page][0]) for page in pages} == {
        page: (PAGE_BUDGETS[page], PAGE_BUDGETS[page]) for page in pages
    }
    assert large["notices:list"][1] > small["notices:list"][1]


RECEIVABLE_PAGES = ["dashboard:receivables", "dashboard:payments"]
# The receivables grouped by project manager (two queries more), and a download of each list.
RECEIVABLE_BUDGETS = {"grouped": 15, "download": 10}


def test_receivable_pages_cost_their_budget_at_two_sizes(firm_a, firm_b):
    """Finance's receivables, grouped by project manager too, and the payment register with its downloads
    (the whole run below measures the pages with every page)."""
    small_staff, large_staff = make_staff(firm_a), make_staff(firm_b)
    small_world, large_world = build_world(firm_a, small_staff, SMALL), build_world(firm_b, large_staff, LARGE)
    small = measure(RECEIVABLE_PAGES, signed_in(small_staff), small_world)
    large = measure(RECEIVABLE_PAGES, signed_in(large_staff), large_world)
    assert {page: (small[page][0], large[page][0]) for page in RECEIVABLE_PAGES} == {
        page: (PAGE_BUDGETS[page], PAGE_BUDGETS[page]) for page in RECEIVABLE_PAGES
    }
    assert large["dashboard:receivables"][1] > small["dashboard:receivables"][1]
    assert large["dashboard:payments"][1] > small["dashboard:payments"][1]
    extra = {
        f"{reverse('dashboard:receivables')}?by=pm": RECEIVABLE_BUDGETS["grouped"],
        reverse("dashboard:receivables-download", args=["xlsx"]): RECEIVABLE_BUDGETS["download"],
        reverse("dashboard:payments-download", args=["csv"]): RECEIVABLE_BUDGETS["download"],
    }
    for staff in (small_staff, large_staff):
        client = signed_in(staff)["admin"]
        for url, budget in extra.items():
            client.get(url)
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            assert len(queries) == budget, (url, len(queries))


def test_staff_pages_cost_their_budget_at_two_sizes(firm_a, firm_b):
    """The small firm is measured while the large one exists beside it, and the other way round: another
    firm's rows are never fetched nor counted."""
    small_staff, large_staff = make_staff(firm_a), make_staff(firm_b)
    small_world = build_world(firm_a, small_staff, SMALL)
    large_world = build_world(firm_b, large_staff, LARGE)
    small = measure(PAGES, signed_in(small_staff), small_world)
    large = measure(PAGES, signed_in(large_staff), large_world)

    report = []
    for page in PAGES:
        (few, few_bytes), (many, many_bytes) = small[page], large[page]
        budget = PAGE_BUDGETS.get(page)
        problems = []
        if few != many:
            problems.append(f"{few} queries at {SMALL} renovation(s) but {many} at {LARGE}")
        if many != budget:
            problems.append(f"budget {budget}, measured {many}")
        if page not in NOT_LISTS | FULL_AT_BOTH_SIZES and many_bytes <= few_bytes:
            problems.append("shows no more rows at the larger size")
        if problems:
            report.append(f"{page}: " + "; ".join(problems))
    assert not report, "\n".join(report)
