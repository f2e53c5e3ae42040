"""The leads app's own part of a homeowner's personal data: the profile, properties, leads, follow-ups and
referral rewards. The export and the erasure (``leads.services.privacy``) hold these at the top and walk the
sections the later stages register in ``renocrm.privacy.registry``; erasing them comes last, once every section
has read the customer's name, mobile and addresses to cut them out of its notes.

Erased: the customer's name, mobile, other contacts, birthday and notes; property addresses and every part of
them, province to room; the needs profile the homeowner told us and the follow-up outcomes; the customer's
identifiers in lost reasons.
Kept: channels, budget ranges, statuses, dates, staff and rewards — the funnel figures; a property's area,
layout and type.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import translation
from django.utils.translation import gettext as _

from renocrm.api.models import Deletion
from renocrm.api.sync import deletions_record
from renocrm.privacy.registry import ERASED, SCRUB, anonymise, rows
from renocrm.tenancy.context import require_current_tenant

from .models import Customer, FollowUp, Lead, LeadStatusChange, Property, ReferralReward


def erased_mobile(customer: Customer) -> str:
    """A unique stand-in for an erased customer's mobile: "0" and the id, which no mobile number starts with."""
    return f"0{customer.pk:010d}"


def export(customer: Customer) -> dict[str, list[dict]]:
    """The leads app's own rows of the customer: profile, properties, leads, follow-ups, rewards earned."""
    return {
        "customer": rows(
            Customer.objects.filter(pk=customer.pk),
            "id",
            "name",
            "mobile",
            "other_contacts",
            "birthday",
            "notes",
            "created_at",
            "updated_at",
            "anonymised_at",
        ),
        "properties": rows(
            customer.properties.all(),
            "id",
            "address",
            "province",
            "city",
            "district",
            "street",
            "compound",
            "building_unit_room",
            "area",
            "layout",
            "condition",
            "kind",
            "created_at",
        ),
        "leads": rows(
            customer.leads.all(),
            "id",
            "property_id",
            "channel",
            "household",
            "living_habits",
            "style_preferences",
            "budget_min",
            "budget_max",
            "core_needs",
            "assigned_to__name",
            "designer__name",
            "status",
            "lost_reason",
            "next_follow_up_on",
            "created_at",
            "updated_at",
        ),
        "follow_ups": rows(
            FollowUp.objects.filter(lead__customer=customer),
            "lead_id",
            "kind",
            "at",
            "outcome",
            "next_step",
            "next_contact_on",
            "by__name",
        ),
        "lead_status_changes": rows(
            LeadStatusChange.objects.filter(lead__customer=customer),
            "lead_id",
            "from_status",
            "to_status",
            "reason",
            "at",
        ),
        "referral_rewards": rows(
            ReferralReward.objects.filter(referrer=customer),
            "lead_id",
            "kind",
            "amount",
            "gift",
            "status",
            "created_at",
            "fulfilled_at",
        ),
    }


def anonymise_leads(leads, *, customer: Customer | None = None, now: datetime) -> None:
    """Clear the needs profile the homeowner told us and the follow-up outcomes of ``leads``; the channel,
    budget range, status, dates and staff stay for the funnel figures."""
    anonymise(FollowUp.objects.filter(lead__in=leads), customer, outcome=ERASED, next_step="")
    anonymise(leads, customer, household="", living_habits="", style_preferences="", core_needs="")
    if customer is not None:
        anonymise(leads, customer, lost_reason=SCRUB)
        anonymise(LeadStatusChange.objects.filter(lead__in=leads), customer, reason=SCRUB)
    leads.filter(anonymised_at__isnull=True).update(anonymised_at=now)


def erase(customer: Customer, *, now: datetime) -> None:
    """Anonymise the customer, their properties and leads, once every registered section has erased its own
    rows (those read the customer's identifiers first)."""
    with translation.override(require_current_tenant().language):
        name = _("Erased customer #%(id)s") % {"id": customer.pk}
        address = _("Erased address")
    anonymise_leads(Lead.objects.filter(customer=customer), customer=customer, now=now)
    anonymise(
        customer.properties.all(),
        customer,
        address=address,
        province="",
        city="",
        district="",
        street="",
        compound="",
        building_unit_room="",
    )
    anonymise(
        Customer.objects.filter(pk=customer.pk),
        customer,
        name=name,
        mobile=erased_mobile(customer),
        other_contacts="",
        notes="",
        birthday=None,
    )
    if Customer.objects.filter(pk=customer.pk, anonymised_at__isnull=True).update(anonymised_at=now):
        # The rows stay for the firm's figures, anonymous; a partner's mirror drops the person and their homes.
        deletions_record(Customer, [customer.pk], reason=Deletion.Reason.ERASED)
        deletions_record(
            Property, list(customer.properties.values_list("pk", flat=True)), reason=Deletion.Reason.ERASED
        )
