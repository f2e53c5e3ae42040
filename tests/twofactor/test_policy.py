import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from renocrm.accounts.roles import Role
from renocrm.audit.models import AuditEvent
from renocrm.tenancy.context import tenant_context
from tests.factories import MembershipFactory
from tests.twofactor.support import enrol, verify_session

POLICY = reverse("twofactor:policy")
RESET = reverse("twofactor:member-reset")


def signed_in(client, user):
    client.force_login(user)
    if TOTPDevice.objects.filter(user=user).exists():
        verify_session(client, TOTPDevice.objects.get(user=user))
    return client


def test_staff_without_firm_manage_may_not_see_or_change_the_rule(client, sales, firm_a):
    signed_in(client, sales)

    assert client.get(POLICY).status_code == 403
    assert client.post(POLICY, {"require_admin_two_factor": "on"}).status_code == 403
    assert client.post(RESET, {"member": sales.pk}).status_code == 403
    firm_a.refresh_from_db()
    assert not firm_a.require_admin_two_factor


def test_an_admin_without_two_factor_cannot_turn_the_requirement_on(client, admin, firm_a):
    signed_in(client, admin)

    response = client.post(POLICY, {"require_admin_two_factor": "on"})

    assert response.status_code == 400
    assert "Set up two-factor sign-in for yourself first" in response.content.decode()
    firm_a.refresh_from_db()
    assert not firm_a.require_admin_two_factor


def test_an_admin_with_two_factor_turns_it_on_and_off_in_the_firms_audit_trail(
    client, admin, second_admin, firm_a, firm_b
):
    enrol(admin)
    signed_in(client, admin)

    response = client.post(POLICY, {"require_admin_two_factor": "on"})

    assert response["Location"] == POLICY
    firm_a.refresh_from_db()
    assert firm_a.require_admin_two_factor
    page = client.get(POLICY).content.decode()
    assert 'data-testid="twofactor-member-admin-a2"' in page
    with tenant_context(firm_a):
        event = AuditEvent.objects.get(table_name="tenancy_tenant")
    assert (event.action, event.row_id, event.actor_id) == ("update", str(firm_a.pk), admin.pk)
    assert event.changes == {"require_admin_two_factor": [False, True]}
    with tenant_context(firm_b):
        assert not AuditEvent.objects.filter(table_name="tenancy_tenant").exists()

    # The other admin is sent to set it up at their next page.
    other = client.__class__()
    signed_in(other, second_admin)
    assert other.get(reverse("dashboard:home"))["Location"].startswith(reverse("twofactor:setup"))

    client.post(POLICY, {})
    firm_a.refresh_from_db()
    assert not firm_a.require_admin_two_factor
    with tenant_context(firm_a):
        assert AuditEvent.objects.filter(table_name="tenancy_tenant").count() == 2
    assert other.get(reverse("dashboard:home")).status_code == 200


def test_an_admin_resets_a_colleagues_lost_device(client, admin, second_admin, firm_a):
    enrol(admin)
    enrol(second_admin)
    signed_in(client, admin)

    response = client.post(RESET, {"member": second_admin.pk})

    assert response["Location"] == POLICY
    assert not TOTPDevice.objects.filter(user=second_admin).exists()
    with tenant_context(firm_a):
        assert AuditEvent.objects.filter(table_name="otp_totp_totpdevice", action="delete").count() == 1


def test_a_reset_is_refused_for_oneself_another_firms_user_and_someone_of_two_firms(
    client, admin, second_admin, firm_a, firm_b
):
    enrol(admin)
    outsider = MembershipFactory(tenant=firm_b, role=Role.ADMIN).user
    enrol(outsider)
    enrol(second_admin)
    MembershipFactory(tenant=firm_b, user=second_admin, role=Role.SALES)
    signed_in(client, admin)

    for member in (admin, outsider, second_admin):
        response = client.post(RESET, {"member": member.pk})
        assert response["Location"] == POLICY
    messages = [str(message) for message in response.wsgi_request._messages]

    assert TOTPDevice.objects.filter(user__in=[admin, outsider, second_admin]).count() == 3
    assert any("only the platform operator" in message for message in messages)


def test_the_operator_resets_a_device_from_the_command_line(sales, capsys):
    enrol(sales)

    call_command("twofactor_reset", "sales-a")

    assert not TOTPDevice.objects.filter(user=sales).exists()
    assert "Two-factor sign-in reset for sales-a" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("twofactor_reset", "nobody")
