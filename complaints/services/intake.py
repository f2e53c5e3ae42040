"""Writes for complaints (投诉): intake from every channel, at level 1 with the level-1 clocks running and
the owner told."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from complaints.models import Complaint, ComplaintEntry
from complaints.selectors import front_line_owner
from complaints.services._common import log, start_clocks, tell_owner
from complaints.services.settings import complaint_settings_get
from contracts.models import TradeCategory
from renocrm.accounts.staff import require_staff_role
from renocrm.outbox.services import event_emit

Kind = ComplaintEntry.Kind

# Marked here, translated when sent, in the firm's language.
OPENED_HEADLINE = gettext_noop("A new complaint is yours to handle.")


@transaction.atomic
def complaint_open(
    *,
    customer,
    channel: str,
    category: str,
    description: str,
    project=None,
    severity: str = Complaint.Severity.NORMAL,
    trade: str = "",
    responsible=None,
    owner=None,
    opened_by=None,
    note: str = "",
) -> Complaint:
    """Take a complaint in at level 1 with the level-1 clocks running from now. It is handled by ``owner``
    if given, else the worksite's customer service agent, else its project manager; the owner is told.
    ``note`` goes on the "opened" entry of the handling log (who filed it, from which callback …)."""
    errors = {}
    if customer is None:
        errors["customer"] = _("Choose the customer who complains.")
    if channel not in Complaint.Channel.values:
        errors["channel"] = _("Choose how the complaint came in.")
    if category not in Complaint.Category.values:
        errors["category"] = _("Choose what the complaint is about.")
    if severity not in Complaint.Severity.values:
        errors["severity"] = _("Choose how serious the complaint is.")
    if trade and trade not in TradeCategory.values:
        errors["trade"] = _("Choose a trade from the list, or none.")
    description = (description or "").strip()
    if not description:
        errors["description"] = _("Describe what the customer complains about.")
    if project is not None and customer is not None and project.customer_id != customer.pk:
        errors["project"] = _("This project belongs to another customer.")
    for field, user in (("responsible", responsible), ("owner", owner)):
        try:
            require_staff_role(user, field=field)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)

    settings = complaint_settings_get()
    now = timezone.now()
    complaint = Complaint(
        customer=customer,
        project=project,
        channel=channel,
        category=category,
        trade=trade,
        severity=severity,
        description=description,
        responsible=responsible,
        owner=owner if owner is not None else front_line_owner(project),
        level=1,
        cycle=1,
        opened_at=now,
        opened_by=opened_by,
    )
    start_clocks(complaint, settings=settings, now=now)
    complaint.save()
    log(complaint, Kind.OPENED, text=(note or "").strip(), by=opened_by, at=now)
    tell_owner(complaint, key=f"complaint-opened:{complaint.pk}", headline=OPENED_HEADLINE)
    event_emit(
        event_type="complaint.opened",
        payload={
            "id": complaint.pk,
            "customer_id": complaint.customer_id,
            "project_id": complaint.project_id,
            "channel": complaint.channel,
            "category": complaint.category,
            "severity": complaint.severity,
            "level": complaint.level,
        },
    )
    return complaint
