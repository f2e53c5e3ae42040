"""The complaints section of a homeowner's personal data (see renocrm/privacy/registry.py).

Erased: the complaint in the homeowner's words (its description), and the homeowner's own words recorded
with their verdict; the customer's name, mobile and addresses inside the handling log and the resolution.
Kept: channel, category, trade, severity, levels, escalations, SLA times, root cause, verdict and the staff
responsible — the complaint concentration and SLA figures — and the handling log's entries with who and
when.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from renocrm.privacy.registry import ERASED, SCRUB, anonymise, rows

from .models import Complaint, ComplaintEntry, ComplaintEscalation


def export(customer) -> dict:
    return {
        "complaints": rows(
            Complaint.objects.filter(customer=customer),
            "id",
            "project_id",
            "channel",
            "category",
            "trade",
            "severity",
            "description",
            "status",
            "level",
            "responsible__name",
            "owner__name",
            "opened_at",
            "responded_at",
            "resolved_at",
            "resolution",
            "reported_at",
            "verdict",
            "verdict_at",
            "closed_at",
        ),
        "complaint_log": rows(
            ComplaintEntry.objects.filter(complaint__customer=customer), "complaint_id", "kind", "level", "text", "at"
        ),
        "complaint_escalations": rows(
            ComplaintEscalation.objects.filter(complaint__customer=customer),
            "complaint_id",
            "cycle",
            "from_level",
            "to_level",
            "breach",
            "deadline",
            "at",
        ),
    }


def erase(customer) -> None:
    anonymise(Complaint.objects.filter(customer=customer), customer, description=ERASED, resolution=SCRUB)
    entries = ComplaintEntry.objects.filter(complaint__customer=customer)
    # The verdict entry carries what the homeowner said about the result.
    anonymise(entries.filter(kind=ComplaintEntry.Kind.VERDICT), customer, text="")
    anonymise(entries.exclude(kind=ComplaintEntry.Kind.VERDICT), customer, text=SCRUB)


def blocks_erasure(customer) -> str | None:
    if Complaint.objects.filter(customer=customer, status__in=Complaint.ACTIVE_STATUSES).exists():
        return _("A complaint of this customer is still being handled.")
    return None


def holds(customer) -> bool:
    """The firm keeps its complaint record, and the customer it is about, while complaints exist."""
    return Complaint.objects.filter(customer=customer).exists()
