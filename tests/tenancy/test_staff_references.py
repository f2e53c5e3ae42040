"""A record names a staff member only among its firm's active members: the staff pages' pickers list and
accept no one else, the services refuse anyone else with an error that names nobody, and the database
refuses a user who is not a member of the row's firm whatever the application does."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from contracts.models import MeasurementAppointment
from contracts.services import design as contract_services
from leads.models import Lead
from leads.services import pipeline as lead_services
from renocrm.accounts.models import Membership
from renocrm.tenancy.context import tenant_context
from tests.callbacks.factories import CallbackFactory
from tests.factories import MembershipFactory
from tests.leads.factories import CustomerFactory, LeadFactory
from tests.worksites.factories import HandoverFactory, WorksiteFactory
from worksites.models import RectificationItem, Worksite

pytestmark = pytest.mark.usefixtures("english")

NOT_A_MEMBER = "Not a member of this firm."
IN_A_MONTH = (date.today() + timedelta(days=30)).isoformat()
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@dataclass
class People:
    colleague: object  # an active admin of firm A: fits every role
    leaver: object  # firm A's member who has left
    outsider: object  # firm B's member


@pytest.fixture
def people(firm_a, firm_b):
    return People(
        MembershipFactory(tenant=firm_a, user__name="Colleague Ma", user__username="colleague-a").user,
        MembershipFactory(tenant=firm_a, is_active=False, user__name="Leaver Liu", user__username="leaver-a").user,
        MembershipFactory(tenant=firm_b, user__name="Outsider Qian", user__username="outsider-b").user,
    )


# The staff pages ----------------------------------------------------------------------------------------------
# Each: what to create in firm A; the page with the picker; the POST (url, data) naming ``who``; the value
# read back from the database.

PAGES = {
    "lead customer manager": (
        LeadFactory,
        lambda lead: f"/leads/{lead.pk}/edit/",
        lambda lead, who: (f"/leads/{lead.pk}/edit/", {"assigned_to": who}),
        lambda lead: Lead.objects.get(pk=lead.pk).assigned_to_id,
    ),
    "measurement designer": (
        lambda: LeadFactory(with_property=True),
        lambda lead: f"/contracts/leads/{lead.pk}/measurements/new/",
        lambda lead, who: (
            f"/contracts/leads/{lead.pk}/measurements/new/",
            {"scheduled_at": "2027-01-10T10:00", "designer": who},
        ),
        lambda lead: MeasurementAppointment.objects.filter(lead=lead).values_list("designer", flat=True).first(),
    ),
    "worksite crew": (
        WorksiteFactory,
        lambda site: f"/worksites/{site.pk}/crew/",
        lambda site, who: (f"/worksites/{site.pk}/crew/", {"project_manager": who}),
        lambda site: Worksite.objects.get(pk=site.pk).project_manager_id,
    ),
    "rectification owner": (
        HandoverFactory,
        lambda handover: f"/worksites/{handover.worksite_id}/handover/",
        lambda handover, who: (
            f"/worksites/handovers/{handover.pk}/rectification-items/",
            {"description": "Re-seal the window", "owner": who, "deadline": IN_A_MONTH},
        ),
        lambda handover: RectificationItem.objects.filter(handover=handover).values_list("owner", flat=True).first(),
    ),
    "callback agent": (
        CallbackFactory,
        lambda callback: f"/callbacks/{callback.pk}/",
        lambda callback, who: (f"/callbacks/{callback.pk}/assign/", {"agent": who}),
        lambda callback: type(callback).objects.get(pk=callback.pk).assigned_to_id,
    ),
    "complaint responsible": (
        CustomerFactory,
        lambda customer: f"/complaints/new/?customer={customer.pk}",
        lambda customer, who: (
            f"/complaints/new/?customer={customer.pk}",
            {
                "customer": customer.pk,
                "channel": "phone",
                "category": "quality",
                "severity": "normal",
                "description": "Cracks in the wall",
                "responsible": who,
            },
        ),
        lambda customer: customer.complaints.values_list("responsible", flat=True).first(),
    ),
}


@pytest.mark.parametrize("case", PAGES)
def test_a_staff_picker_lists_only_active_members_of_the_firm(staff_client, firm_a, people, case):
    setup, page, _, _ = PAGES[case]
    with tenant_context(firm_a):
        record = setup()
    response = staff_client.get(page(record), **EN)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'value="{people.colleague.pk}"' in html and people.colleague.name in html
    for somebody in (people.leaver, people.outsider):
        assert somebody.name not in html and f'value="{somebody.pk}"' not in html


@pytest.mark.parametrize("case", PAGES)
@pytest.mark.parametrize("who", ["outsider", "leaver"])
def test_a_staff_picker_refuses_anyone_else_naming_nobody(staff_client, firm_a, people, case, who):
    setup, _, submit, read = PAGES[case]
    with tenant_context(firm_a):
        record = setup()
    url, data = submit(record, getattr(people, who).pk)
    response = staff_client.post(url, data, follow=True, **EN)
    html = response.content.decode()
    assert NOT_A_MEMBER in html
    for somebody in (people.leaver, people.outsider):
        assert somebody.name not in html and somebody.username not in html
    with tenant_context(firm_a):
        assert read(record) is None


@pytest.mark.parametrize("case", PAGES)
def test_a_staff_picker_takes_an_active_member(staff_client, firm_a, people, case):
    setup, _, submit, read = PAGES[case]
    with tenant_context(firm_a):
        record = setup()
    url, data = submit(record, people.colleague.pk)
    response = staff_client.post(url, data, **EN)
    assert response.status_code == 302, response.content.decode()[:2000]
    with tenant_context(firm_a):
        assert read(record) == people.colleague.pk


# The services: the invariant's keepers, whoever calls them ---------------------------------------------------


NEXT_WEEK = datetime.combine(date.today() + timedelta(days=7), time(10), tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.mark.parametrize("who", ["outsider", "leaver"])
def test_services_refuse_a_non_member_naming_nobody(firm_a, people, who):
    person = getattr(people, who)
    with tenant_context(firm_a):
        lead = LeadFactory(with_property=True)
        with pytest.raises(ValidationError) as refused:
            lead_services.lead_create(channel="online", name="Wang Fang", mobile="13800138000", assigned_to=person)
        assert refused.value.message_dict == {"assigned_to": [NOT_A_MEMBER]}
        with pytest.raises(ValidationError) as refused:
            contract_services.measurement_appointment_schedule(lead=lead, scheduled_at=NEXT_WEEK, designer=person)
        assert refused.value.message_dict == {"designer": [NOT_A_MEMBER]}
        assert not MeasurementAppointment.objects.exists()
    for message in refused.value.messages:
        assert person.name not in message and person.username not in message


def test_the_measurement_service_checks_the_designers_role(firm_a, people):
    sales = MembershipFactory(tenant=firm_a, role="sales").user
    with tenant_context(firm_a):
        lead = LeadFactory(with_property=True)
        with pytest.raises(ValidationError) as refused:
            contract_services.measurement_appointment_schedule(lead=lead, scheduled_at=NEXT_WEEK, designer=sales)
        assert list(refused.value.message_dict) == ["designer"]
        appointment = contract_services.measurement_appointment_schedule(
            lead=lead, scheduled_at=NEXT_WEEK, designer=people.colleague
        )
        assert appointment.designer == people.colleague


# The database ------------------------------------------------------------------------------------------------


def test_a_raw_update_to_another_firms_user_is_refused_by_the_database(firm_a, people):
    stranger = get_user_model().objects.create_user(username="stranger")
    with tenant_context(firm_a):
        lead = LeadFactory(assigned_to=people.colleague)
        for user in (people.outsider, stranger):
            with pytest.raises(IntegrityError), transaction.atomic():
                Lead.objects.filter(pk=lead.pk).update(assigned_to=user)
            with pytest.raises(IntegrityError), transaction.atomic():
                Worksite.objects.filter(pk=WorksiteFactory().pk).update(designer=user)
        # A member who has left still stands in the rows naming them (only new choices skip them).
        Lead.objects.filter(pk=lead.pk).update(designer=people.leaver)
        assert Lead.objects.get(pk=lead.pk).assigned_to == people.colleague


def test_a_member_named_by_records_can_leave_but_the_membership_stays(firm_a, people):
    with tenant_context(firm_a):
        lead = LeadFactory(assigned_to=people.colleague)
    membership = Membership.objects.get(user=people.colleague, tenant=firm_a)
    membership.is_active = False
    membership.save()
    with tenant_context(firm_a):
        assert Lead.objects.get(pk=lead.pk).assigned_to_id == people.colleague.pk
    # Deleting the membership while records name them is refused, like PROTECT.
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.filter(pk=membership.pk).delete()
    with tenant_context(firm_a), pytest.raises(ProtectedError):
        people.colleague.delete()


def test_a_firm_deletes_its_own_user_whom_another_firm_tried_to_name(firm_a, firm_b, people):
    """Another firm could once name a user of ours and so stop us deleting them; now it cannot name them."""
    with tenant_context(firm_b):
        lead = LeadFactory()
        with pytest.raises(IntegrityError), transaction.atomic():
            Lead.objects.filter(pk=lead.pk).update(designer=people.colleague)
    user_id = people.colleague.pk
    with tenant_context(firm_a):
        people.colleague.delete()
    assert not get_user_model().objects.filter(pk=user_id).exists()
    assert not Membership.objects.filter(user_id=user_id).exists()
