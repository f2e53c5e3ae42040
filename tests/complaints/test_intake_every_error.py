"""Taking a complaint in: the form checks every rule the intake service keeps (the customer's own project, the
lists, a description, active staff), so one submission shows all its mistakes; the service, which the portal,
callbacks and the API use too, refuses with all of them at once as well."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from complaints.models import Complaint
from complaints.services import intake
from renocrm.tenancy.context import tenant_context
from tests.complaints.conftest import staff
from tests.contracts.factories import ProjectFactory
from tests.factories import MembershipFactory


def test_one_intake_submission_shows_every_mistake(staff_client, firm_a, team):
    with tenant_context(firm_a):
        other = ProjectFactory()  # another customer's project
    former = MembershipFactory(tenant=firm_a, role="customer_service", is_active=False).user
    response = staff_client.post(
        reverse("complaints:new") + f"?customer={team.customer.pk}",
        {
            "customer": team.customer.pk,
            "project": other.pk,
            "channel": "fax",
            "category": "",
            "severity": "normal",
            "trade": "plumbing",
            "description": "   ",
            "owner": former.pk,
        },
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"project", "channel", "category", "trade", "description", "owner"}
    with tenant_context(firm_a):
        assert not Complaint.objects.exists()


def test_the_intake_service_refuses_with_every_rule_at_once(firm_a, team):
    with tenant_context(firm_a):
        other = ProjectFactory()
        outsider = staff(firm_a, "customer_service")
        outsider.is_active = False
        outsider.save()
        with pytest.raises(ValidationError) as refused:
            intake.complaint_open(
                customer=team.customer,
                project=other,
                channel="fax",
                category="",
                description="",
                severity="huge",
                owner=outsider,
            )
        assert set(refused.value.message_dict) == {
            "project",
            "channel",
            "category",
            "description",
            "severity",
            "owner",
        }
        assert not Complaint.objects.exists()
