"""Writes for the design stage before a quotation: the design agreement and its fee, the measurement visit."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from contracts.models import DesignAgreement, MeasurementAppointment
from contracts.services.amounts import money
from leads.models import Lead
from leads.selectors import DESIGNER_ROLES
from leads.services.checks import Refusals
from leads.services.customers import property_check, property_create, property_has_address, property_input
from leads.services.pipeline import lead_update
from renocrm.accounts.staff import require_staff_role
from renocrm.outbox.services import event_emit
from renocrm.tenancy.time import firm_day_start, firm_today


@transaction.atomic
def design_agreement_create(*, lead: Lead, fee: Decimal, signed_on: date, notes: str = "") -> DesignAgreement:
    return DesignAgreement.objects.create(lead=lead, fee=money(fee), signed_on=signed_on, notes=notes)


@transaction.atomic
def design_agreement_mark_paid(*, agreement: DesignAgreement, paid_on: date) -> DesignAgreement:
    agreement.paid, agreement.paid_on = True, paid_on
    agreement.save(update_fields=["paid", "paid_on"])
    return agreement


def measurement_address_check(*, lead: Lead, new_property: dict | None = None) -> None:
    """The designer must know where to measure: the lead's property with its address, or ``new_property``
    (``property_create``'s address parts and area) to record with the appointment when it has none."""
    if property_has_address(lead.property):
        if new_property is not None:
            raise ValidationError({"new_property": _("The lead has a property with an address already.")})
        return
    if new_property is None:
        raise ValidationError(
            {"new_property": _("The lead has no property with an address: enter where the designer is to measure.")}
        )
    property_check(**new_property)


@transaction.atomic
def measurement_appointment_schedule(
    *, lead: Lead, scheduled_at: datetime, designer=None, notes: str = "", new_property: dict | None = None
) -> MeasurementAppointment:
    """Book the site survey at the lead's property; a lead without one gets ``new_property``, recorded in the
    same transaction. Any time from the start of the firm's today on: a visit agreed this morning is still
    entered after the fact, an earlier day is a mistake."""
    new_property = property_input(new_property)
    refusals = Refusals()
    refusals.run(require_staff_role, designer, roles=DESIGNER_ROLES, field="designer")
    if scheduled_at < firm_day_start(firm_today()):
        refusals.add("scheduled_at", _("The appointment cannot be on a day that has passed."))
    lead = Lead.objects.select_for_update(of=("self",)).select_related("property").get(pk=lead.pk)
    refusals.run(measurement_address_check, lead=lead, new_property=new_property)
    refusals.raise_any()
    if new_property is not None:
        home = property_create(customer=lead.customer, **new_property)
        lead_update(lead=lead, property=home)
    appointment = MeasurementAppointment.objects.create(
        lead=lead, scheduled_at=scheduled_at, designer=designer, notes=notes
    )
    event_emit(
        event_type="measurement.scheduled",
        payload={
            "id": appointment.pk,
            "lead_id": lead.pk,
            "scheduled_at": appointment.scheduled_at.isoformat(),
            "designer_id": designer.pk if designer else None,
        },
    )
    return appointment
