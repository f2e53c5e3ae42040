"""Repair SLA breaches: the beat's sweep telling the assignee (or the firm's admins) about each open repair
past its response or on-site deadline, once per breach."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aftercare.models import RepairRequest
from aftercare.services._common import staff_for, tell_staff
from renocrm.outbox.services import event_emit
from renocrm.sweeps.services import Sweep
from renocrm.tenancy.context import require_current_tenant

# The sweeper's name in renocrm.sweeps (its failures and backoff).
REPAIR_SLA_SWEEP = "repair-sla"
RESPOND, ON_SITE = "respond", "on_site"


@transaction.atomic
def repair_sla_raise_breaches(*, now: datetime | None = None, sweep: Sweep | None = None) -> int:
    """Tell the assignee (or the firm's admins when nobody is assigned) about each open repair past its
    response or on-site deadline, once per breach: the breach is marked on the row, and each message has
    the idempotency key ``repair-sla:<id>:respond`` / ``…:on_site``. Rows are claimed with SKIP LOCKED, so
    two sweeps at once split the work; one bounded batch, each repair in its own savepoint, so a repair that
    fails is recorded and retried later (``renocrm.sweeps``) without holding up the others. Returns how many
    breaches were raised."""
    now = now or timezone.now()
    sweep = sweep or Sweep(REPAIR_SLA_SWEEP)
    due = (
        RepairRequest.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("assigned_to", "project__customer")
        .filter(status__in=RepairRequest.OPEN_STATUSES)
        .filter(
            Q(respond_by__lt=now, responded_at__isnull=True, response_breach_raised_at__isnull=True)
            | Q(on_site_by__lt=now, on_site_at__isnull=True, on_site_breach_raised_at__isnull=True)
        )
        .order_by("id")
    )
    raised = 0
    for repair in sweep.batch(due):
        raised += sweep.run(repair.pk, _repair_breaches_raise, repair, now=now) or 0
    return raised


def _repair_breaches_raise(repair: RepairRequest, *, now: datetime) -> int:
    tenant = require_current_tenant()
    raised = 0
    with translation.override(tenant.language):
        breaches = []
        if repair.respond_by < now and repair.responded_at is None and repair.response_breach_raised_at is None:
            repair.response_breach_raised_at = now
            breaches.append(RESPOND)
        if repair.on_site_by < now and repair.on_site_at is None and repair.on_site_breach_raised_at is None:
            repair.on_site_breach_raised_at = now
            breaches.append(ON_SITE)
        repair.save(update_fields=["response_breach_raised_at", "on_site_breach_raised_at"])
        for breach in breaches:
            values = {
                "number": repair.pk,
                "project": repair.project.name,
                "customer": repair.project.customer.name,
                "area": repair.get_area_display(),
                "deadline": timezone.localtime(
                    repair.respond_by if breach == RESPOND else repair.on_site_by, tenant.zone
                ).strftime("%Y-%m-%d %H:%M"),
            }
            if breach == RESPOND:
                body = (
                    _(
                        "Repair #%(number)s (%(project)s, %(customer)s, %(area)s) has had no response; "
                        "the deadline was %(deadline)s."
                    )
                    % values
                )
            else:
                body = (
                    _(
                        "Repair #%(number)s (%(project)s, %(customer)s, %(area)s) has had nobody on site; "
                        "the deadline was %(deadline)s."
                    )
                    % values
                )
            tell_staff(
                staff_for(repair.assigned_to, f"repair-sla:{repair.pk}:{breach}"),
                subject=_("Repair #%(number)s is overdue") % values,
                body=f"{tenant.name}: {body}",
                link=reverse("aftercare:repair", args=[repair.pk]),
            )
            event_emit(
                event_type="repair.sla_breached",
                payload={"id": repair.pk, "project_id": repair.project_id, "breach": breach},
            )
            raised += 1
    return raised
