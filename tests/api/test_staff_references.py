"""A field that names a staff member takes only an active member of the caller's firm. Another firm's user,
a member who has left and an id nobody has are refused alike, with an error that names nobody: the answer
must not let a partner list another firm's staff by trying ids."""

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from rest_framework import serializers

from complaints.models import Complaint
from contracts.models import MeasurementAppointment
from leads.models import Lead
from renocrm.accounts.models import Membership
from renocrm.api.fields import FirmMemberField
from renocrm.tenancy.context import tenant_context
from tests.aftercare.factories import RepairRequestFactory
from tests.callbacks.factories import CallbackFactory
from tests.complaints.factories import ComplaintFactory
from tests.factories import MembershipFactory
from tests.leads.factories import CustomerFactory, LeadFactory
from tests.registry import firm_api_routes
from tests.worksites.factories import HandoverFactory, WorksiteFactory

pytestmark = pytest.mark.usefixtures("english")

NOT_A_MEMBER = "Not a member of this firm."
IN_A_MONTH = (date.today() + timedelta(days=30)).isoformat()


@dataclass
class People:
    colleague: object  # an active admin of firm A: fits every role
    leaver: object  # firm A's member who has left
    outsider: object  # firm B's member
    stranger: object  # a user of no firm
    missing: int  # an id nobody has


@pytest.fixture
def people(firm_a, firm_b):
    colleague = MembershipFactory(tenant=firm_a, user__name="Colleague Ma", user__username="colleague-a").user
    leaver = MembershipFactory(tenant=firm_a, is_active=False, user__name="Leaver Liu", user__username="leaver-a").user
    outsider = MembershipFactory(tenant=firm_b, user__name="Outsider Qian", user__username="outsider-b").user
    stranger = get_user_model().objects.create_user(username="stranger", name="Stranger Sun")
    missing = stranger.pk + 1000
    return People(colleague, leaver, outsider, stranger, missing)


@pytest.fixture
def api(client, partner):
    client.defaults.update(partner.headers, HTTP_ACCEPT_LANGUAGE="en")
    return client


# Each case: what to create in firm A, then the request naming the staff member (``who`` is a user id) and
# how to read the field back from the database afterwards.


def lead_create(field):
    def request(_, who):
        return "/api/v1/leads/", {"name": "Wang Fang", "mobile": "13800138000", field: who}

    return request, lambda _: Lead.objects.values_list(field, flat=True).first()


def measurement_appointment(_):
    return LeadFactory(with_property=True)


def worksite(_):
    return WorksiteFactory()


def handover(_):
    return HandoverFactory()


def callback(_):
    return CallbackFactory()


def repair(_):
    return RepairRequestFactory()


def complaint(_):
    return ComplaintFactory()


CASES = {
    "lead assigned_to": (lambda people: None, *lead_create("assigned_to")),
    "lead designer": (lambda people: None, *lead_create("designer")),
    "measurement designer": (
        measurement_appointment,
        lambda lead, who: (
            "/api/v1/measurement-appointments/",
            {"lead": lead.pk, "scheduled_at": f"{date.today() + timedelta(days=7)}T10:00:00+08:00", "designer": who},
        ),
        lambda lead: MeasurementAppointment.objects.filter(lead=lead).values_list("designer", flat=True).first(),
    ),
    "worksite crew": (
        worksite,
        lambda site, who: (
            f"/api/v1/worksites/{site.pk}/assign-crew/",
            {"designer": None, "project_manager": who, "qc_inspector": None, "customer_service": None},
        ),
        lambda site: type(site).objects.get(pk=site.pk).project_manager_id,
    ),
    "rectification owner": (
        handover,
        lambda handover, who: (
            "/api/v1/rectification-items/",
            {"handover": handover.pk, "description": "Re-seal the window", "owner": who, "deadline": IN_A_MONTH},
        ),
        lambda handover: handover.rectification_items.values_list("owner", flat=True).first(),
    ),
    "callback agent": (
        callback,
        lambda callback, who: (f"/api/v1/callbacks/{callback.pk}/assign/", {"agent": who}),
        lambda callback: type(callback).objects.get(pk=callback.pk).assigned_to_id,
    ),
    "repair agent": (
        repair,
        lambda repair, who: (f"/api/v1/repair-requests/{repair.pk}/assign/", {"agent": who}),
        lambda repair: type(repair).objects.get(pk=repair.pk).assigned_to_id,
    ),
    "complaint responsible": (
        lambda people: CustomerFactory(),
        lambda customer, who: (
            "/api/v1/complaints/",
            {"customer": customer.pk, "category": "quality", "description": "Cracks", "responsible": who},
        ),
        lambda customer: Complaint.objects.filter(customer=customer).values_list("responsible", flat=True).first(),
    ),
    "complaint owner": (
        lambda people: CustomerFactory(),
        lambda customer, who: (
            "/api/v1/complaints/",
            {"customer": customer.pk, "category": "quality", "description": "Cracks", "owner": who},
        ),
        lambda customer: Complaint.objects.filter(customer=customer).values_list("owner", flat=True).first(),
    ),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("who", ["outsider", "leaver", "stranger", "missing"])
def test_a_staff_field_refuses_anyone_but_an_active_member_naming_nobody(api, firm_a, people, case, who):
    setup, build, read = CASES[case]
    with tenant_context(firm_a):
        record = setup(people)
    person = getattr(people, who)
    staff_id = person if isinstance(person, int) else person.pk
    url, body = build(record, staff_id)
    field = next(name for name, value in body.items() if value == staff_id)

    response = api.post(url, body, content_type="application/json")

    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"] == {field: [NOT_A_MEMBER]}
    text = response.content.decode()
    for somebody in (people.outsider, people.leaver, people.stranger):
        assert somebody.name not in text and somebody.username not in text
    with tenant_context(firm_a):
        assert read(record) is None


@pytest.mark.parametrize("case", CASES)
def test_a_staff_field_takes_an_active_member(api, firm_a, people, case):
    setup, build, read = CASES[case]
    with tenant_context(firm_a):
        record = setup(people)
    url, body = build(record, people.colleague.pk)
    response = api.post(url, body, content_type="application/json")
    assert response.status_code in (200, 201), response.content
    with tenant_context(firm_a):
        assert read(record) == people.colleague.pk


def test_a_member_in_the_wrong_role_is_refused_without_a_name(api, firm_a, people):
    """The role is the service's check: its refusal names nobody either."""
    sales = MembershipFactory(tenant=firm_a, role="sales", user__name="Sales Zhao").user
    response = api.post(
        "/api/v1/leads/",
        {"name": "Wang Fang", "mobile": "13800138000", "designer": sales.pk},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["designer"]
    assert "Sales Zhao" not in response.content.decode()


def test_a_member_of_both_firms_may_be_named_in_either(api, firm_a, firm_b, people):
    Membership.objects.create(user=people.outsider, tenant=firm_a, roles=["sales"])
    response = api.post(
        "/api/v1/leads/",
        {"name": "Wang Fang", "mobile": "13800138000", "assigned_to": people.outsider.pk},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["assigned_to"] == people.outsider.pk


def _serializers():
    for _, view, _, _ in firm_api_routes():
        yield view.serializer_class
    seen = set()
    stack = [serializers.Serializer]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.add(sub)
                stack.append(sub)
                yield sub


def test_every_writable_field_over_users_is_a_firm_member_field():
    """A ModelSerializer makes a plain PrimaryKeyRelatedField over every user for a foreign key to the user:
    each one that the API writes must be declared as a FirmMemberField."""
    user_model = get_user_model()
    firm_api_routes()  # imports every app's API
    plain = set()
    for serializer_class in _serializers():
        if serializer_class is None or not serializer_class.__module__.startswith(
            ("leads.", "contracts.", "worksites.", "aftercare.", "callbacks.", "complaints.", "renocrm.")
        ):
            continue
        for name, field in serializer_class().fields.items():
            related = getattr(field, "child_relation", field)
            if field.read_only or not isinstance(related, serializers.RelatedField):
                continue
            if isinstance(related, FirmMemberField):
                continue
            if getattr(related.queryset, "model", None) is user_model:
                plain.add(f"{serializer_class.__module__}.{serializer_class.__qualname__}.{name}")
    # The audit trail is read-only: its actor is shown, never written.
    assert plain - {"renocrm.audit.apis.AuditEventSerializer.actor"} == set()


@pytest.mark.parametrize(
    "url, parameter",
    [
        ("/api/v1/leads/", "assigned_to"),
        ("/api/v1/leads/", "designer"),
        ("/api/v1/audit-events/", "actor"),
    ],
)
def test_a_filter_by_staff_takes_only_the_firms_staff(api, firm_a, people, url, parameter):
    """Filtering by another firm's user answers as for an id that does not exist: no way to learn which
    user ids exist elsewhere, and no name."""
    with tenant_context(firm_a):
        LeadFactory(assigned_to=people.colleague, designer=people.colleague)
    outsider = api.get(url, {parameter: people.outsider.pk})
    missing = api.get(url, {parameter: people.missing})
    assert outsider.status_code == missing.status_code == 400
    assert outsider.json()["error"]["fields"] == missing.json()["error"]["fields"]
    assert people.outsider.username not in outsider.content.decode()
    assert api.get(url, {parameter: people.colleague.pk}).status_code == 200
    # A former member still filters their old records.
    assert api.get(url, {parameter: people.leaver.pk}).status_code == 200


def test_filtered_requests_do_not_grow_the_filter_set_cache(api, people):
    from renocrm.api.views import _FIRM_FILTERSETS

    # audit-events declares filterset_fields: django-filter builds its filter set class on every call.
    api.get("/api/v1/audit-events/", {"actor": people.colleague.pk})
    size = len(_FIRM_FILTERSETS)
    for _ in range(3):
        assert api.get("/api/v1/audit-events/", {"actor": people.colleague.pk}).status_code == 200
    assert len(_FIRM_FILTERSETS) == size
