"""The construction and handover section of a homeowner's personal data (see renocrm/privacy/registry.py).

Erased: the homeowner's name, IP address and remark on their sign-offs; the names on accepted phases and
chosen solutions; who else came to the technical handover; where portal links were sent and the IP address
and browser of every portal visit (the links themselves are revoked); the customer's name, mobile and
addresses inside the staff's notes and findings.
Kept: phases, inspections, patrols, problems, acceptance items and rectification items with their dates,
results and staff — the firm's record of the work and its quality figures — and the progress photos and
handover documents, which are the firm's own record of the work (no homeowner uploads live here).
"""

from __future__ import annotations

from pathlib import PurePosixPath

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from renocrm.privacy.registry import ERASED, SCRUB, anonymise, columns_but, rows

from .models import (
    AcceptanceItem,
    Handover,
    HandoverDocument,
    Inspection,
    MaterialArrival,
    Phase,
    PortalAction,
    PortalLink,
    ProblemSolution,
    ProgressMedia,
    ProgressUpdate,
    RectificationItem,
    Signoff,
    SitePatrol,
    SiteProblem,
    TechnicalHandover,
    Worksite,
)

SITE = "worksite__project__customer"


def _signoffs(customer):
    return Signoff.objects.filter(
        Q(inspection__worksite__project__customer=customer) | Q(material_arrival__worksite__project__customer=customer)
    )


def export(customer) -> dict:
    on_site = {SITE: customer}
    in_handover = {f"handover__{SITE}": customer}
    return {
        "worksites": rows(
            Worksite.objects.filter(project__customer=customer),
            "id",
            "project_id",
            "status",
            "designer__name",
            "project_manager__name",
            "qc_inspector__name",
            "customer_service__name",
            "created_at",
        ),
        "phases": rows(
            Phase.objects.filter(**on_site),
            "worksite_id",
            "position",
            "kind",
            "name",
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
            "status",
            "accepted_at",
            "accepted_name",
        ),
        "technical_handovers": rows(
            TechnicalHandover.objects.filter(**on_site),
            *columns_but(TechnicalHandover, "id", "recorded_by", "created_at"),
        ),
        "inspections": rows(
            Inspection.objects.filter(**on_site),
            "id",
            "worksite_id",
            "kind",
            "scheduled_on",
            "result",
            "findings",
            "decided_at",
        ),
        "material_arrivals": rows(
            MaterialArrival.objects.filter(**on_site),
            "id",
            "worksite_id",
            "material",
            "brand_model",
            "quantity",
            "unit",
            "arrived_on",
            "status",
            "notes",
            "accepted_at",
        ),
        "signoffs": rows(
            _signoffs(customer),
            "inspection_id",
            "material_arrival_id",
            "role",
            "signed_name",
            "signed_at",
            "ip_address",
            "note",
        ),
        "site_patrols": rows(
            SitePatrol.objects.filter(**on_site), "worksite_id", "patrolled_on", "role", "findings", "issues_found"
        ),
        "site_problems": rows(
            SiteProblem.objects.filter(**on_site),
            "id",
            "worksite_id",
            "title",
            "description",
            "status",
            "raised_at",
            "chosen_solution_id",
            "chosen_at",
            "chosen_name",
            "resolved_at",
        ),
        "problem_solutions": rows(
            ProblemSolution.objects.filter(**{f"problem__{SITE}": customer}),
            "id",
            "problem_id",
            "position",
            "description",
            "cost_change",
            "extra_days",
        ),
        "progress_updates": rows(
            ProgressUpdate.objects.filter(visible_to_homeowner=True, **on_site),
            "id",
            "worksite_id",
            "phase__name",
            "note",
            "posted_at",
        ),
        "progress_media": rows(
            _homeowner_media(customer), "update_id", "kind", "original_name", "content_type", "size", "created_at"
        ),
        "handovers": rows(
            Handover.objects.filter(**on_site),
            "id",
            "worksite_id",
            "status",
            "started_at",
            "handed_over_on",
            "completed_at",
        ),
        "acceptance_items": rows(
            AcceptanceItem.objects.filter(**in_handover),
            "handover_id",
            "position",
            "area",
            "item",
            "result",
            "note",
            "checked_at",
        ),
        "rectification_items": rows(
            RectificationItem.objects.filter(**in_handover),
            "handover_id",
            "description",
            "deadline",
            "status",
            "fixed_at",
            "rechecked_at",
            "recheck_note",
        ),
        # The list of documents the homeowner was given; the files themselves are in the archive too.
        "handover_documents": rows(
            HandoverDocument.objects.filter(**in_handover),
            "id",
            "handover_id",
            "kind",
            "title",
            "original_name",
            "content_type",
            "size",
            "created_at",
        ),
        "portal_links": rows(
            PortalLink.objects.filter(**on_site),
            "id",
            "worksite_id",
            "sent_to",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_opened_at",
        ),
        "portal_actions": rows(
            PortalAction.objects.filter(**{f"link__{SITE}": customer}),
            "link_id",
            "action",
            "object_id",
            "at",
            "ip_address",
            "user_agent",
        ),
    }


def _homeowner_media(customer):
    return ProgressMedia.objects.filter(**{f"update__{SITE}": customer, "update__visible_to_homeowner": True})


def _suffix(name: str) -> str:
    return PurePosixPath(name).suffix


def files(customer) -> list:
    """The handover documents and the progress photos and videos the homeowner could see in the portal."""
    documents = HandoverDocument.objects.filter(**{f"handover__{SITE}": customer}).order_by("pk")
    media = _homeowner_media(customer).order_by("pk")
    return [
        *(
            (f"handover-documents/{doc.handover_id}-{doc.kind}-{doc.pk}{_suffix(doc.file.name)}", doc.file)
            for doc in documents
        ),
        *((f"progress/{item.update_id}-{item.pk}{_suffix(item.file.name)}", item.file) for item in media),
    ]


def erase(customer) -> None:
    on_site = {SITE: customer}
    in_handover = {f"handover__{SITE}": customer}
    signoffs = _signoffs(customer)
    anonymise(signoffs.filter(role="homeowner"), customer, signed_name=ERASED, ip_address=None, note="")
    anonymise(signoffs.exclude(role="homeowner"), customer, note=SCRUB)
    anonymise(Phase.objects.filter(**on_site).exclude(accepted_name=""), customer, accepted_name=ERASED)
    anonymise(Phase.objects.filter(**on_site), customer, notes=SCRUB)
    problems = SiteProblem.objects.filter(**on_site)
    anonymise(problems.exclude(chosen_name=""), customer, chosen_name=ERASED)
    anonymise(problems, customer, title=SCRUB, description=SCRUB)
    anonymise(ProblemSolution.objects.filter(**{f"problem__{SITE}": customer}), customer, description=SCRUB)
    anonymise(TechnicalHandover.objects.filter(**on_site), customer, other_attendees="", existing_facilities=SCRUB)
    anonymise(Inspection.objects.filter(**on_site), customer, findings=SCRUB)
    anonymise(MaterialArrival.objects.filter(**on_site), customer, notes=SCRUB)
    anonymise(SitePatrol.objects.filter(**on_site), customer, findings=SCRUB)
    anonymise(ProgressUpdate.objects.filter(**on_site), customer, note=SCRUB)
    anonymise(AcceptanceItem.objects.filter(**in_handover), customer, note=SCRUB)
    anonymise(RectificationItem.objects.filter(**in_handover), customer, description=SCRUB, recheck_note=SCRUB)
    links = PortalLink.objects.filter(**on_site)
    # An erased homeowner's links stop working; revoking is not personal data, so it is not redacted.
    links.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    anonymise(links, customer, sent_to="")
    anonymise(PortalAction.objects.filter(**{f"link__{SITE}": customer}), customer, ip_address=None, user_agent="")


def blocks_erasure(customer) -> str | None:
    building = Worksite.objects.filter(project__customer=customer).exclude(status=Worksite.Status.HANDED_OVER)
    if building.exists():
        return _("A worksite of this customer is still under construction.")
    open_items = RectificationItem.objects.filter(**{f"handover__{SITE}": customer}).exclude(
        status=RectificationItem.Status.CLOSED
    )
    if open_items.exists():
        return _("Rectification items of this customer's handover are still open.")
    return None
