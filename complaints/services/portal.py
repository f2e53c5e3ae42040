"""Writes for the homeowner portal: a homeowner files a complaint about the link's project, and gives their
verdict on the result reported to them; each recorded as the link's portal action."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from complaints.models import Complaint
from complaints.services.handling import complaint_verdict_record
from complaints.services.intake import complaint_open
from worksites.models import PortalAction
from worksites.services.portal import portal_action_record


@transaction.atomic
def portal_complaint_file(
    *, link, category: str, description: str, name: str, ip_address: str | None = None, user_agent: str = ""
) -> Complaint:
    """A homeowner files a complaint about the link's project; their name goes on the handling log."""
    project = link.worksite.project
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Type your name.")})
    complaint = complaint_open(
        customer=project.customer,
        project=project,
        channel=Complaint.Channel.PORTAL,
        category=category,
        description=description,
        note=_("Filed through the homeowner portal by %(name)s.") % {"name": name[:100]},
    )
    portal_action_record(
        link=link,
        action=PortalAction.Action.COMPLAINT_FILED,
        object_id=complaint.pk,
        ip_address=ip_address,
        user_agent=user_agent,
    )
    return complaint


@transaction.atomic
def portal_complaint_verdict(
    *,
    link,
    complaint: Complaint,
    verdict: str,
    name: str,
    comment: str = "",
    ip_address: str | None = None,
    user_agent: str = "",
) -> Complaint:
    """The homeowner's verdict on the result reported to them, for a complaint about the link's project."""
    if complaint.project_id != link.worksite.project_id:
        raise ValidationError(_("This complaint is not about this project."))
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Type your name.")})
    signed = _("(%(name)s, homeowner portal)") % {"name": name[:100]}
    comment = f"{(comment or '').strip()} {signed}".strip()
    complaint = complaint_verdict_record(complaint=complaint, verdict=verdict, comment=comment)
    portal_action_record(
        link=link,
        action=PortalAction.Action.COMPLAINT_VERDICT,
        object_id=complaint.pk,
        ip_address=ip_address,
        user_agent=user_agent,
    )
    return complaint
