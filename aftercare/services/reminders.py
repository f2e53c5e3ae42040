"""Warranty-expiry reminders: the beat's sweep telling the homeowner (SMS) and customer service that a
warranty ends soon, once per coverage and lead time."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from aftercare.models import Coverage, WarrantyReminder
from aftercare.services._common import inserted, staff_for, tell_staff
from aftercare.services.policy import aftercare_settings_get
from renocrm.outbox.models import Notification
from renocrm.outbox.services import event_emit, notification_send
from renocrm.sweeps.services import Sweep
from renocrm.tenancy.context import require_current_tenant
from renocrm.tenancy.time import firm_today
from worksites.models import Worksite

# The sweeper's name in renocrm.sweeps (its failures and backoff).
WARRANTY_REMINDER_SWEEP = "warranty-reminders"


def _customer_service_of(project_id: int):
    worksite = Worksite.objects.filter(project_id=project_id).select_related("customer_service").first()
    return worksite.customer_service if worksite is not None else None


@transaction.atomic
def warranty_reminders_send(*, today: date | None = None, sweep: Sweep | None = None) -> int:
    """Remind the homeowner (SMS) and customer service that a warranty ends soon, once per coverage and lead
    time in the firm's settings. When several lead times are due at once (a late start, a beat that was
    down), only the nearest is sent and the others are recorded as skipped. The reminder row's unique key
    decides: a run acts only on the rows it inserted, so two runs at once send each reminder once. Returns
    how many reminders were sent. One bounded batch of coverages, each in its own savepoint: a coverage that
    fails is recorded and retried later (``renocrm.sweeps``) without holding up the others."""
    today = today or firm_today()
    sweep = sweep or Sweep(WARRANTY_REMINDER_SWEEP)
    leads = sorted(set(aftercare_settings_get().warranty_reminder_days))
    if not leads:
        return 0
    in_window = Coverage.objects.filter(ends_on__gte=today, ends_on__lte=today + timedelta(days=max(leads)))
    if sweep.held:
        in_window = in_window.exclude(pk__in=list(sweep.held))
    coverages = list(in_window.select_related("project__customer").order_by("id"))
    recorded = set(WarrantyReminder.objects.filter(coverage__in=coverages).values_list("coverage_id", "days_before"))
    sent = 0
    for coverage in coverages:
        due = [lead for lead in leads if coverage.ends_on - timedelta(days=lead) <= today]
        new = [lead for lead in due if (coverage.pk, lead) not in recorded]
        if not new:
            continue
        if sweep.full:
            break
        sent += (
            sweep.run(coverage.pk, _warranty_reminders_record, coverage, new=new, nearest=min(due), today=today) or 0
        )
    return sent


def _warranty_reminders_record(coverage: Coverage, *, new: list[int], nearest: int, today: date) -> int:
    tenant = require_current_tenant()
    sent = 0
    with translation.override(tenant.language):
        # Nearest first, in the same order in every run, so concurrent runs wait on the same row.
        for lead in sorted(new):
            row = inserted(
                WarrantyReminder, coverage=coverage, days_before=lead, sent_on=today, skipped=lead != nearest
            )
            if row is None or row.skipped:
                continue
            _warranty_remind(tenant, coverage, lead)
            sent += 1
    return sent


def _warranty_remind(tenant, coverage: Coverage, lead: int) -> None:
    customer = coverage.project.customer
    values = {
        "firm": tenant.name,
        "name": customer.name,
        "coverage": coverage.name,
        "project": coverage.project.name,
        "ends_on": coverage.ends_on.isoformat(),
        "phone": tenant.phone,
    }
    key = f"warranty-reminder:{coverage.pk}:{lead}"
    if customer.mobile:
        if tenant.phone:
            body = _(
                "%(firm)s: Dear %(name)s, the %(coverage)s warranty of %(project)s ends on %(ends_on)s. "
                "If anything needs repairing, call us on %(phone)s before then."
            )
        else:
            body = _(
                "%(firm)s: Dear %(name)s, the %(coverage)s warranty of %(project)s ends on %(ends_on)s. "
                "If anything needs repairing, report it before then."
            )
        notification_send(
            channel=Notification.Channel.SMS,
            recipient=customer.mobile,
            body=body % values,
            idempotency_key=key,
            sms_template="aftercare.warranty_reminder",
            sms_params=values,
        )
    staff_body = _("The %(coverage)s warranty of %(project)s (%(name)s) ends on %(ends_on)s.") % values
    tell_staff(
        staff_for(_customer_service_of(coverage.project_id), f"{key}:staff"),
        subject=_("A warranty ends soon: %(project)s") % values,
        body=staff_body,
        link=reverse("aftercare:project", args=[coverage.project_id]),
    )
    event_emit(
        event_type="warranty.expiring",
        payload={
            "coverage_id": coverage.pk,
            "project_id": coverage.project_id,
            "customer_id": customer.pk,
            "ends_on": coverage.ends_on.isoformat(),
            "days_before": lead,
        },
    )
