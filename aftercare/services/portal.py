"""What the homeowner does about repairs through the portal link: report one, and confirm one resolved, each
with its ``PortalAction`` trail row in the same transaction."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from aftercare.models import RepairRequest, RepairVisit
from aftercare.services.repairs import repair_log_add, repair_request_confirm, repair_request_open
from worksites.models import PortalAction
from worksites.services.portal import portal_action_record


@transaction.atomic
def portal_repair_report(
    *,
    link,
    area: str,
    description: str,
    trade: str = "",
    category: str = "",
    photos=(),
    name: str = "",
    ip_address: str | None = None,
    user_agent: str = "",
) -> RepairRequest:
    """A repair reported by the homeowner through the portal, with its trail row, in one transaction."""
    repair = repair_request_open(
        project=link.worksite.project,
        area=area,
        trade=trade,
        category=category,
        description=description,
        source=RepairRequest.Source.PORTAL,
        photos=photos,
    )
    if (name or "").strip():
        note = _("Reported through the homeowner portal by %(name)s.") % {"name": name.strip()[:100]}
        repair_log_add(repair, RepairVisit.Kind.NOTE, note, None, repair.reported_at)
    portal_action_record(
        link=link,
        action=PortalAction.Action.REPAIR_REQUESTED,
        object_id=repair.pk,
        ip_address=ip_address,
        user_agent=user_agent,
    )
    return repair


@transaction.atomic
def portal_repair_confirm(
    *,
    link,
    repair: RepairRequest,
    satisfied: bool,
    comment: str = "",
    ip_address: str | None = None,
    user_agent: str = "",
) -> RepairRequest:
    if repair.project_id != link.worksite.project_id:
        raise ValidationError(_("This repair does not belong to your home."))
    repair = repair_request_confirm(repair=repair, satisfied=satisfied, comment=comment)
    portal_action_record(
        link=link,
        action=PortalAction.Action.REPAIR_CONFIRMED,
        object_id=repair.pk,
        ip_address=ip_address,
        user_agent=user_agent,
    )
    return repair
