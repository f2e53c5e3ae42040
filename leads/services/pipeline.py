"""Writes for leads through the sales pipeline: creation (by staff or a partner), status moves, the win,
assignment, the needs profile and follow-ups; one transaction each."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leads.models import Customer, FollowUp, Lead, LeadSettings, LeadStatusChange, Property, ReferralReward
from leads.selectors import CUSTOMER_MANAGER_ROLES, DESIGNER_ROLES
from leads.services.checks import Refusals
from leads.services.customers import (
    clean_mobile,
    find_or_create_customer,
    property_check,
    property_create,
    property_input,
)
from leads.validators import normalize_mobile
from renocrm.accounts.staff import require_staff_role
from renocrm.outbox.services import event_emit

S = Lead.Status
# Forward moves only (skipping a step is fine: a showroom visitor may be measured on the spot). "Won" is
# reached only by signing a contract; "lost" from any open status, with a reason; a lost lead may reopen.
PIPELINE = [S.NEW, S.CONTACTED, S.MEASURED, S.PROPOSAL]


def lead_settings_get() -> LeadSettings:
    settings, _ = LeadSettings.objects.get_or_create()
    return settings


# lead_check's customer when it cannot be told (the name or mobile number still wrong).
_UNKNOWN = object()


def lead_check(**values) -> None:
    """The rules a lead's values keep together, for a new lead and an edit alike: who the customer is, the
    referral, the property (or the new one's address and area, ``new_property``), the budget's ends, the
    staff. Raises one ValidationError naming every rule broken.

    A rule runs only when every value it reads is in ``values``: the services pass them all, a form passes
    what it could read while some of its fields are still wrong (``renocrm.forms.submit``), so one submission
    shows every mistake. ``customer`` (or else ``name`` and ``mobile``, whose customer is looked up, never
    created) says whose lead it is. It only reads."""
    refusals = Refusals()
    # The customer's id; None for a customer still to be created.
    customer = values.get("customer")
    customer_id = customer.pk if customer is not None else _UNKNOWN
    if customer is None and "name" in values and "mobile" in values and not (values["name"] and values["mobile"]):
        refusals.add("customer", _("Choose a customer or give a name and a mobile number."))
    mobile = refusals.run(clean_mobile, values["mobile"]) if customer is None and values.get("mobile") else None
    if mobile is not None:
        customer_id = Customer.objects.filter(mobile=mobile).values_list("pk", flat=True).first()
    property = values.get("property")
    if property is not None and customer_id is not _UNKNOWN and property.customer_id != customer_id:
        refusals.add("property", _("This property belongs to another customer."))
    new_property = values.get("new_property")
    if new_property is not None:
        if property is not None:
            refusals.add("property", _("Choose a property or enter a new address, not both."))
        refusals.run(property_check, **new_property)
    referrer = values.get("referrer")
    if "channel" in values and "referrer" in values:
        if values["channel"] == Lead.Channel.REFERRAL and referrer is None:
            refusals.add("referrer", _("A referral needs the referring customer."))
        if values["channel"] != Lead.Channel.REFERRAL and referrer is not None:
            refusals.add("referrer", _("Only a referral has a referrer."))
    if referrer is not None and referrer.pk == customer_id:
        refusals.add("referrer", _("A customer cannot refer themselves."))
    budget_min, budget_max = values.get("budget_min"), values.get("budget_max")
    if budget_min is not None and budget_max is not None and budget_min > budget_max:
        refusals.add("budget_max", _("The budget's upper end is below its lower end."))
    if "assigned_to" in values:
        refusals.run(require_staff_role, values["assigned_to"], roles=CUSTOMER_MANAGER_ROLES, field="assigned_to")
    if "designer" in values:
        refusals.run(require_staff_role, values["designer"], roles=DESIGNER_ROLES, field="designer")
    refusals.raise_any()


@transaction.atomic
def lead_create(
    *,
    channel: str,
    customer: Customer | None = None,
    name: str = "",
    mobile: str = "",
    property: Property | None = None,
    new_property: dict | None = None,
    referrer: Customer | None = None,
    household: str = "",
    living_habits: str = "",
    style_preferences: str = "",
    budget_min: Decimal | None = None,
    budget_max: Decimal | None = None,
    core_needs: str = "",
    assigned_to=None,
    designer=None,
    next_follow_up_on: date | None = None,
    by=None,
) -> tuple[Lead, bool]:
    """Create a lead; returns it and whether an existing customer was linked by mobile number. ``new_property``
    (``property_create``'s address parts, area, layout …) is the customer's home, recorded with the lead."""
    new_property = property_input(new_property)
    lead_check(
        customer=customer,
        name=name,
        mobile=mobile,
        property=property,
        new_property=new_property,
        channel=channel,
        referrer=referrer,
        budget_min=budget_min,
        budget_max=budget_max,
        assigned_to=assigned_to,
        designer=designer,
    )
    linked = False
    if customer is None:
        customer, linked = find_or_create_customer(name=name, mobile=mobile)
        if property is not None or referrer is not None:
            # A customer written a moment ago by another request, after the check looked: check again.
            lead_check(customer=customer, property=property, referrer=referrer)
    if new_property is not None:
        property = property_create(customer=customer, **new_property)
    lead = Lead.objects.create(
        customer=customer,
        property=property,
        channel=channel,
        referrer=referrer,
        household=household,
        living_habits=living_habits,
        style_preferences=style_preferences,
        budget_min=budget_min,
        budget_max=budget_max,
        core_needs=core_needs,
        assigned_to=assigned_to,
        designer=designer,
        next_follow_up_on=next_follow_up_on,
    )
    event_emit(
        event_type="lead.created",
        payload={"id": lead.pk, "customer_id": customer.pk, "channel": channel, "status": lead.status},
    )
    return lead, linked


@transaction.atomic
def lead_create_from_partner(*, name: str, mobile: str, **fields) -> tuple[Lead, bool]:
    """A partner's lead. The same mobile again within the firm's window returns the open lead already
    there (second value False) instead of creating another."""
    window = timedelta(days=lead_settings_get().partner_duplicate_window_days)
    existing = (
        Lead.objects.filter(
            customer__mobile=normalize_mobile(mobile),
            status__in=Lead.OPEN_STATUSES,
            created_at__gte=timezone.now() - window,
        )
        .order_by("-id")
        .first()
    )
    if existing is not None:
        return existing, False
    fields["channel"] = Lead.Channel.PARTNER  # whatever the partner says, the lead came through the partner
    lead, _ = lead_create(name=name, mobile=mobile, **fields)
    return lead, True


def _record_status(lead: Lead, to_status: str, *, reason: str = "", by=None) -> None:
    from_status = lead.status
    lead.status = to_status
    lead.save(update_fields=["status", "lost_reason", "updated_at"])
    LeadStatusChange.objects.create(lead=lead, from_status=from_status, to_status=to_status, reason=reason, by=by)
    event_emit(event_type="lead.status_changed", payload={"id": lead.pk, "from": from_status, "to": to_status})


@transaction.atomic
def lead_change_status(*, lead: Lead, status: str, reason: str = "", by=None) -> Lead:
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    current = lead.status
    labels = dict(Lead.Status.choices)
    refused = _("A lead cannot go from “%(from)s” to “%(to)s”.") % {"from": labels[current], "to": labels[status]}
    if status == S.WON:
        raise ValidationError({"status": _("A lead is won by signing its contract.")})
    if status == S.LOST:
        if current not in Lead.OPEN_STATUSES:
            raise ValidationError({"status": refused})
        if not reason.strip():
            raise ValidationError({"reason": _("Say why the lead was lost.")})
        lead.lost_reason = reason
    elif current == S.LOST:
        if status == S.NEW:
            raise ValidationError({"status": refused})
        lead.lost_reason = ""  # reopened
    elif current == S.WON or PIPELINE.index(status) <= PIPELINE.index(current):
        raise ValidationError({"status": refused})
    _record_status(lead, status, reason=reason, by=by)
    return lead


@transaction.atomic
def lead_mark_won(*, lead: Lead, by=None) -> Lead:
    """Called when the lead's contract is signed; a referred lead earns its referrer a reward, once."""
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if not lead.is_open:
        raise ValidationError(
            {
                "lead": _("Only an open lead can be won; this one is “%(status)s”.")
                % {"status": lead.get_status_display()}
            }
        )
    _record_status(lead, S.WON, by=by)
    if lead.channel == Lead.Channel.REFERRAL and lead.referrer_id:
        settings = lead_settings_get()
        ReferralReward.objects.get_or_create(
            lead=lead,
            defaults={
                "referrer_id": lead.referrer_id,
                "kind": settings.referral_reward_kind,
                "amount": settings.referral_reward_amount if settings.referral_reward_kind == "amount" else None,
                "gift": settings.referral_reward_gift,
            },
        )
    return lead


@transaction.atomic
def lead_assign(*, lead: Lead, assigned_to=None, designer=None) -> Lead:
    lead_check(assigned_to=assigned_to, designer=designer)
    lead.assigned_to, lead.designer = assigned_to, designer
    lead.save(update_fields=["assigned_to", "designer", "updated_at"])
    return lead


# What lead_update may change besides the assignment.
LEAD_EDITABLE_FIELDS = (
    "household",
    "living_habits",
    "style_preferences",
    "budget_min",
    "budget_max",
    "core_needs",
    "next_follow_up_on",
    "property",
)


@transaction.atomic
def lead_update(*, lead: Lead, **fields) -> Lead:
    """Edit the needs profile, the property (an existing one of the customer's, or ``new_property`` to record)
    and the next follow-up date; ``assigned_to`` and ``designer``, when given, are checked as lead_assign
    checks them. Everything is validated before anything is written."""
    unknown = set(fields) - {*LEAD_EDITABLE_FIELDS, "assigned_to", "designer", "new_property"}
    if unknown:
        raise TypeError(f"lead_update() cannot change {', '.join(sorted(unknown))}")
    lead = Lead.objects.select_for_update(of=("self",)).select_related("customer").get(pk=lead.pk)
    # The stored end of the budget that is not changed still bounds the other.
    budget = {end: getattr(lead, end) for end in ("budget_min", "budget_max")}
    if "new_property" in fields:
        fields["new_property"] = property_input(fields["new_property"])
    lead_check(customer=lead.customer, **{**budget, **fields})
    new_property = fields.pop("new_property", None)
    if new_property is not None:
        fields["property"] = property_create(customer=lead.customer, **new_property)
    changed = [name for name in (*LEAD_EDITABLE_FIELDS, "assigned_to", "designer") if name in fields]
    for name in changed:
        setattr(lead, name, fields[name])
    if changed:
        lead.save(update_fields=[*changed, "updated_at"])
    return lead


@transaction.atomic
def follow_up_record(
    *,
    lead: Lead,
    kind: str,
    outcome: str,
    at: datetime | None = None,
    next_step: str = "",
    next_contact_on: date | None = None,
    by=None,
) -> FollowUp:
    """Log a follow-up; its next contact date becomes the lead's, and a new lead counts as contacted."""
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    follow_up = FollowUp.objects.create(
        lead=lead,
        kind=kind,
        at=at or timezone.now(),
        outcome=outcome,
        next_step=next_step,
        next_contact_on=next_contact_on,
        by=by,
    )
    lead.next_follow_up_on = next_contact_on
    lead.save(update_fields=["next_follow_up_on", "updated_at"])
    if lead.status == S.NEW:
        _record_status(lead, S.CONTACTED, by=by)
    return follow_up
