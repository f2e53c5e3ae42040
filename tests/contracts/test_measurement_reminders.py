"""The reminder before a measurement goes to no one once the customer is erased or the lead is lost or won."""

from __future__ import annotations

from contracts.services.measurement_reminders import measurement_reminders_send
from leads.services.pipeline import lead_change_status
from leads.services.privacy import customer_erase
from renocrm.accounts.roles import Role
from renocrm.outbox.models import Notification, StaffNotice
from renocrm.tenancy.context import tenant_context
from tests.contracts.factories import MeasurementAppointmentFactory
from tests.dashboard.test_agenda import ADDRESS, _sweep, at, member
from tests.leads.factories import LeadFactory, PropertyFactory


def _booked(firm, designer, *, mobile: str, day: int = 19):
    home = PropertyFactory(address=ADDRESS, customer__mobile=mobile)
    lead = LeadFactory(customer=home.customer, property=home)
    MeasurementAppointmentFactory(lead=lead, designer=designer, scheduled_at=at(day, 15))
    return lead


def test_an_erased_customers_measurement_is_not_reminded(english, firm_a):
    designer = member(firm_a, role=Role.DESIGNER, phone="13700137000")
    with tenant_context(firm_a):
        lead = _booked(firm_a, designer, mobile="13800138000")
        customer_erase(customer=lead.customer)
    assert _sweep(firm_a, at(18, 9, 10), measurement_reminders_send) == 0
    with tenant_context(firm_a):
        assert not Notification.objects.filter(idempotency_key__startswith="measurement-reminder:").exists()
        assert not StaffNotice.objects.filter(user=designer).exists()


def test_a_lost_or_won_leads_measurement_is_not_reminded_and_an_open_ones_is(english, firm_a):
    designer = member(firm_a, role=Role.DESIGNER, phone="13700137000")
    with tenant_context(firm_a):
        lost = _booked(firm_a, designer, mobile="13800138001")
        lead_change_status(lead=lost, status="lost", reason="Chose another firm")
        won = _booked(firm_a, designer, mobile="13800138002")
        won.status = "won"
        won.save(update_fields=["status"])
        _booked(firm_a, designer, mobile="13800138003")
    assert _sweep(firm_a, at(18, 9, 10), measurement_reminders_send) == 1
    with tenant_context(firm_a):
        texts = Notification.objects.filter(idempotency_key__startswith="measurement-reminder:", channel="sms")
        assert sorted(texts.values_list("recipient", flat=True)) == ["13700137000", "13800138003"]
