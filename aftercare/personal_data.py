"""The aftercare section of a homeowner's personal data (see renocrm/privacy/registry.py).

Erased: what the homeowner wrote (a repair reported through the portal or a partner, their comment on the
repair), the photos of their home sent with repairs (rows and stored files), the greetings sent to them;
the customer's name, mobile and addresses inside staff notes. The customer is opted out of member care and
the expiry reminders of their warranties are recorded as skipped, so nobody writes to an erased person.
Kept: coverages with their dates, warranty cards (a number and a date; the address they show is the
property's), repair requests with area, trade, kind of problem, the warranty decision, status, SLA times,
charges and the satisfied/not-satisfied answer — the firm's warranty and SLA figures — and the staff who
handled them.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from renocrm.privacy.registry import ERASED, SCRUB, anonymise, audit_redact, delete_files_on_commit, rows
from renocrm.tenancy.time import firm_today

from .models import (
    CareMessage,
    CareOptOut,
    Coverage,
    RepairPhoto,
    RepairRequest,
    RepairVisit,
    WarrantyCard,
    WarrantyReminder,
)
from .services.policy import aftercare_settings_get

# Repairs the homeowner described in their own words.
HOMEOWNER_SOURCES = (RepairRequest.Source.PORTAL, RepairRequest.Source.API)


def _repairs(customer):
    return RepairRequest.objects.filter(project__customer=customer)


def export(customer) -> dict:
    return {
        "coverages": rows(
            Coverage.objects.filter(project__customer=customer),
            "id",
            "project_id",
            "name",
            "area",
            "trade",
            "starts_on",
            "ends_on",
            "notes",
        ),
        "warranty_cards": rows(
            WarrantyCard.objects.filter(customer=customer), "id", "project_id", "number", "issued_on"
        ),
        "repair_requests": rows(
            _repairs(customer),
            "id",
            "project_id",
            "area",
            "trade",
            "category",
            "description",
            "source",
            "reported_at",
            "is_covered",
            "status",
            "responded_at",
            "on_site_at",
            "resolved_at",
            "resolution",
            "charge",
            "confirmed_at",
            "homeowner_satisfied",
            "homeowner_comment",
        ),
        "repair_visits": rows(
            RepairVisit.objects.filter(repair__project__customer=customer), "repair_id", "kind", "at", "note"
        ),
        "repair_photos": rows(
            RepairPhoto.objects.filter(repair__project__customer=customer), "repair_id", "uploaded_at"
        ),
        "care_messages": rows(CareMessage.objects.filter(customer=customer), "kind", "occasion", "body", "sent_at"),
        "care_opt_outs": rows(CareOptOut.objects.filter(customer=customer), "at", "reason"),
    }


def files(customer) -> list:
    photos = RepairPhoto.objects.filter(repair__project__customer=customer).order_by("pk")
    return [
        (f"repair-photos/{photo.repair_id}-{photo.pk}-{photo.file.name.rsplit('/', 1)[-1]}", photo.file)
        for photo in photos
    ]


def erase(customer) -> None:
    repairs = _repairs(customer)
    anonymise(repairs.filter(source__in=HOMEOWNER_SOURCES), customer, description=ERASED)
    anonymise(repairs, customer, description=SCRUB, resolution=SCRUB, homeowner_comment="")
    anonymise(RepairVisit.objects.filter(repair__project__customer=customer), customer, note=SCRUB)
    anonymise(Coverage.objects.filter(project__customer=customer), customer, notes=SCRUB)
    anonymise(CareMessage.objects.filter(customer=customer), customer, body=ERASED)
    photos = RepairPhoto.objects.filter(repair__project__customer=customer)
    stored = [photo.file for photo in photos]
    photo_ids = [photo.pk for photo in photos]
    # The rows go too (nothing counts them); the trail keeps that they existed, without the file names.
    RepairPhoto.objects.filter(pk__in=photo_ids).delete()
    audit_redact(RepairPhoto, photo_ids, ["file"])
    delete_files_on_commit(stored)
    CareOptOut.objects.get_or_create(customer=customer, defaults={"reason": _("Personal data erased")})
    _skip_warranty_reminders(customer)


def _skip_warranty_reminders(customer) -> None:
    """Record every reminder still to come as handled (skipped): the reminder row is the sweep's
    exactly-once guard, so the homeowner is never texted about a warranty again."""
    lead_times = set(aftercare_settings_get().warranty_reminder_days)
    today = firm_today()
    coverages = Coverage.objects.filter(project__customer=customer, ends_on__gte=today)
    WarrantyReminder.objects.bulk_create(
        [
            WarrantyReminder(coverage_id=coverage_id, days_before=days, sent_on=today, skipped=True)
            for coverage_id in coverages.values_list("pk", flat=True)
            for days in lead_times
        ],
        ignore_conflicts=True,
    )


def blocks_erasure(customer) -> str | None:
    if _repairs(customer).filter(Q(status__in=RepairRequest.OPEN_STATUSES)).exists():
        return _("A repair request of this customer is still open.")
    return None
