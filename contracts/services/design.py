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


@transaction.atomic
def measurement_appointment_schedule(
    *, lead: Lead, scheduled_at: datetime, designer=None, notes: str = ""
) -> MeasurementAppointment:
    """Book the site survey. Any time from the start of the firm's today on: a visit agreed this morning is
    still entered after the fact, an earlier day is a mistake."""
    require_staff_role(designer, roles=DESIGNER_ROLES, field="designer")
    if scheduled_at < firm_day_start(firm_today()):
        raise ValidationError({"scheduled_at": _("The appointment cannot be on a day that has passed.")})
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
