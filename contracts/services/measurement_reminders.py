"""The reminder before a measurement appointment (the day before by default; ``ContractSettings.
measurement_reminder_days_before``, 0: none): the homeowner gets a text with the day, time and designer, the
designer a notice with the address. An hourly sweep from 09:00 firm time; each appointment is reminded once
per time it is booked for (keys on the messages), so a sweep run twice, or two at once, sends nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from contracts.models import MeasurementAppointment
from contracts.services.signing import contract_settings_get
from leads.models import Lead
from renocrm.outbox.models import Notification
from renocrm.outbox.services import notifications_send_many, notify_staff_many
from renocrm.sweeps.services import Sweep
from renocrm.tenancy.context import require_current_tenant
from renocrm.tenancy.time import firm_day_start

# The sweeper's name in renocrm.sweeps (its failures and backoff).
MEASUREMENT_REMINDER_SWEEP = "measurement-reminders"
# Texts to homeowners go out from this hour, firm time.
REMIND_FROM_HOUR = 9


def reminder_key(appointment: MeasurementAppointment, to: str) -> str:
    """``to``: "homeowner", or the designer's user id. The time in UTC, however the instance came to hold it."""
    booked = appointment.scheduled_at.astimezone(UTC).strftime("%Y%m%dT%H%MZ")
    return f"measurement-reminder:{appointment.pk}:{booked}:{to}"


def _keys(appointment: MeasurementAppointment) -> list[str]:
    keys = []
    if appointment.lead.customer.mobile:
        keys.append(reminder_key(appointment, "homeowner"))
    designer = appointment.designer
    # Only a text or an e-mail decides what is owed (the notice in the app goes with it).
    if designer is not None and designer.is_active and (designer.phone or designer.email):
        keys.append(reminder_key(appointment, str(designer.pk)))
    return keys


def measurement_reminders_send(*, now: datetime | None = None, sweep: Sweep | None = None) -> int:
    """Remind the homeowner and the designer of each booked measurement from now to the end of the firm's
    reminder days (today included: a beat that was down catches up). One bounded batch of the appointments
    still owed a reminder, sent together (one look-up of the keys, one INSERT); should that fail, one by
    one (``Sweep.run_together``). Returns how many appointments were reminded now."""
    now = now or timezone.now()
    sweep = sweep or Sweep(MEASUREMENT_REMINDER_SWEEP)
    days = contract_settings_get().measurement_reminder_days_before
    local = timezone.localtime(now, require_current_tenant().zone)
    if not days or local.hour < REMIND_FROM_HOUR:
        return 0
    until = firm_day_start(local.date() + timedelta(days=days + 1))
    # Not for a lead lost or won, nor a customer erased (their stand-in mobile, and "Erased customer"): asked
    # again under the lock below, for an erasure or a lost lead committed meanwhile.
    reminded = {
        "status": MeasurementAppointment.Status.SCHEDULED,
        "scheduled_at__gt": now,
        "lead__status__in": Lead.OPEN_STATUSES,
        "lead__customer__anonymised_at__isnull": True,
    }
    booked = MeasurementAppointment.objects.filter(**reminded, scheduled_at__lt=until)
    if sweep.held:
        booked = booked.exclude(pk__in=[int(key) for key in sweep.held])
    # The window is a few days of one firm's appointments: read whole, so those reminded already never fill a batch.
    candidates = list(booked.select_related("lead__customer", "designer").order_by("scheduled_at", "id"))
    keys = {appointment.pk: _keys(appointment) for appointment in candidates}
    sent = set(
        Notification.objects.filter(idempotency_key__in=[key for found in keys.values() for key in found]).values_list(
            "idempotency_key", flat=True
        )
    )
    owed = [appointment.pk for appointment in candidates if set(keys[appointment.pk]) - sent][: sweep.batch_size]
    if not owed:
        return 0
    # Locked, and those another run holds skipped: that run reminds them.
    due = list(
        MeasurementAppointment.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(pk__in=owed, **reminded)
        .select_related("lead__customer", "lead__property", "designer")
        .order_by("scheduled_at", "id")
    )
    return sweep.run_together(due, _remind)


def _remind(appointments: list[MeasurementAppointment]) -> int:
    firm = require_current_tenant()
    texts, notices = [], []
    with translation.override(firm.language):
        for appointment in appointments:
            local = timezone.localtime(appointment.scheduled_at, firm.zone)
            values = {
                "firm": firm.name,
                "name": appointment.lead.customer.name,
                "day": local.date().isoformat(),
                "time": local.strftime("%H:%M"),
                "designer": str(appointment.designer) if appointment.designer else "",
                "phone": firm.phone,
            }
            if appointment.lead.customer.mobile:
                texts.append(
                    {
                        "channel": Notification.Channel.SMS,
                        "recipient": appointment.lead.customer.mobile,
                        "body": _homeowner_text(values),
                        "idempotency_key": reminder_key(appointment, "homeowner"),
                        "sms_template": "contracts.measurement_reminder",
                        "sms_params": {
                            "firm": values["firm"],
                            "name": values["name"],
                            "day": values["day"],
                            "time": values["time"],
                            "designer": values["designer"],
                            "phone": values["phone"],
                        },
                    }
                )
            if appointment.designer is not None:
                notices.append(_designer_notice(appointment, values))
    messages = texts + notify_staff_many(notices)
    notifications_send_many(messages)
    return len(appointments)


def _homeowner_text(values: dict) -> str:
    if values["designer"]:
        body = _(
            "%(firm)s: a reminder of your measurement appointment on %(day)s at %(time)s with our designer "
            "%(designer)s."
        )
    else:
        body = _("%(firm)s: a reminder of your measurement appointment on %(day)s at %(time)s.")
    body = body % values
    if values["phone"]:
        body += " " + _("To change the time: %(phone)s") % values
    return body


def _designer_notice(appointment: MeasurementAppointment, values: dict) -> dict:
    lead = appointment.lead
    link = reverse("leads:detail", args=[lead.pk])
    context = {**values, "address": lead.property.address if lead.property_id else "—"}
    return {
        "user": appointment.designer,
        "subject": _("Measurement on %(day)s at %(time)s: %(name)s") % context,
        "body": _("Measurement for %(name)s at %(address)s on %(day)s at %(time)s.") % context
        + f" {django_settings.SITE_URL}{link}",
        "idempotency_key": reminder_key(appointment, str(appointment.designer_id)),
        "link": link,
    }
