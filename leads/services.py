"""Writes for customers, properties, leads, follow-ups and referral rewards; one transaction each."""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import reduce
from operator import or_

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from renocrm.accounts.staff import require_staff_role
from renocrm.outbox.models import Notification
from renocrm.outbox.services import event_emit
from renocrm.privacy import registry
from renocrm.privacy.exports import csv_cell, plain
from renocrm.privacy.models import DataRequest
from renocrm.privacy.selectors import privacy_settings
from renocrm.sweeps.services import Sweep
from renocrm.tenancy.context import require_current_tenant

from . import personal_data
from .models import Customer, FollowUp, Lead, LeadSettings, LeadStatusChange, Property, ReferralReward
from .selectors import CUSTOMER_MANAGER_ROLES, DESIGNER_ROLES
from .validators import normalize_mobile, validate_mobile

S = Lead.Status
# The retention sweeper's name in renocrm.sweeps (its failures and backoff).
RETENTION_SWEEP = "lost-lead-retention"
# Forward moves only (skipping a step is fine: a showroom visitor may be measured on the spot). "Won" is
# reached only by signing a contract; "lost" from any open status, with a reason; a lost lead may reopen.
PIPELINE = [S.NEW, S.CONTACTED, S.MEASURED, S.PROPOSAL]


def lead_settings_get() -> LeadSettings:
    settings, _ = LeadSettings.objects.get_or_create()
    return settings


def _clean_mobile(mobile: str) -> str:
    mobile = normalize_mobile(mobile)
    try:
        validate_mobile(mobile)
    except ValidationError as error:
        raise ValidationError({"mobile": error.messages}) from None
    return mobile


@transaction.atomic
def customer_create(
    *, name: str, mobile: str, other_contacts: str = "", birthday: date | None = None, notes: str = ""
) -> Customer:
    mobile = _clean_mobile(mobile)
    if Customer.objects.filter(mobile=mobile).exists():
        raise _known_mobile()
    try:
        with transaction.atomic():
            return Customer.objects.create(
                name=name, mobile=mobile, other_contacts=other_contacts, birthday=birthday, notes=notes
            )
    except IntegrityError:
        # Another request created the same mobile between the check and the insert.
        raise _known_mobile() from None


def _known_mobile() -> ValidationError:
    # "duplicate": the API answers 409 Conflict, the pages show it on the field.
    return ValidationError(
        {"mobile": ValidationError(_("A customer with this mobile number already exists."), code="duplicate")}
    )


@transaction.atomic
def customer_update(*, customer: Customer, **fields) -> Customer:
    if "mobile" in fields:
        fields["mobile"] = _clean_mobile(fields["mobile"])
        if Customer.objects.filter(mobile=fields["mobile"]).exclude(pk=customer.pk).exists():
            raise _known_mobile()
    for name in ("name", "mobile", "other_contacts", "birthday", "notes"):
        if name in fields:
            setattr(customer, name, fields[name])
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError:
        raise _known_mobile() from None
    return customer


@transaction.atomic
def property_create(
    *,
    customer: Customer,
    address: str,
    area: Decimal,
    layout: str = "",
    condition: str = Property.Condition.NEW,
    kind: str = Property.Kind.APARTMENT,
) -> Property:
    if Decimal(area) <= 0:
        raise ValidationError({"area": _("The area must be more than 0 m².")})
    return Property.objects.create(
        customer=customer, address=address, area=area, layout=layout, condition=condition, kind=kind
    )


def _find_or_create_customer(*, name: str, mobile: str) -> tuple[Customer, bool]:
    """The duplicate guard: a known mobile links the existing customer instead of creating a second one."""
    mobile = _clean_mobile(mobile)
    existing = Customer.objects.select_for_update().filter(mobile=mobile).first()
    if existing is not None:
        return existing, True
    try:
        with transaction.atomic():
            return Customer.objects.create(name=name, mobile=mobile), False
    except IntegrityError:
        # Another request created the same mobile a moment ago: link it.
        return Customer.objects.get(mobile=mobile), True


@transaction.atomic
def lead_create(
    *,
    channel: str,
    customer: Customer | None = None,
    name: str = "",
    mobile: str = "",
    property: Property | None = None,
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
    """Create a lead; returns it and whether an existing customer was linked by mobile number."""
    linked = False
    if customer is None:
        if not (name and mobile):
            raise ValidationError({"customer": _("Choose a customer or give a name and a mobile number.")})
        customer, linked = _find_or_create_customer(name=name, mobile=mobile)
    if property is not None and property.customer_id != customer.pk:
        raise ValidationError({"property": _("This property belongs to another customer.")})
    if channel == Lead.Channel.REFERRAL and referrer is None:
        raise ValidationError({"referrer": _("A referral needs the referring customer.")})
    if channel != Lead.Channel.REFERRAL and referrer is not None:
        raise ValidationError({"referrer": _("Only a referral has a referrer.")})
    if referrer is not None and referrer.pk == customer.pk:
        raise ValidationError({"referrer": _("A customer cannot refer themselves.")})
    if budget_min is not None and budget_max is not None and budget_min > budget_max:
        raise ValidationError({"budget_max": _("The budget's upper end is below its lower end.")})
    require_staff_role(assigned_to, roles=CUSTOMER_MANAGER_ROLES, field="assigned_to")
    require_staff_role(designer, roles=DESIGNER_ROLES, field="designer")
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
    require_staff_role(assigned_to, roles=CUSTOMER_MANAGER_ROLES, field="assigned_to")
    require_staff_role(designer, roles=DESIGNER_ROLES, field="designer")
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
    """Edit the needs profile, the property and the next follow-up date; ``assigned_to`` and ``designer``, when
    given, go through lead_assign and its checks. Everything is validated before anything is written."""
    unknown = set(fields) - {*LEAD_EDITABLE_FIELDS, "assigned_to", "designer"}
    if unknown:
        raise TypeError(f"lead_update() cannot change {', '.join(sorted(unknown))}")
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    property = fields.get("property")
    if property is not None and property.customer_id != lead.customer_id:
        raise ValidationError({"property": _("This property belongs to another customer.")})
    budget_min = fields.get("budget_min", lead.budget_min)
    budget_max = fields.get("budget_max", lead.budget_max)
    if budget_min is not None and budget_max is not None and budget_min > budget_max:
        raise ValidationError({"budget_max": _("The budget's upper end is below its lower end.")})
    if "assigned_to" in fields or "designer" in fields:
        lead_assign(
            lead=lead,
            assigned_to=fields.get("assigned_to", lead.assigned_to),
            designer=fields.get("designer", lead.designer),
        )
    changed = [name for name in LEAD_EDITABLE_FIELDS if name in fields]
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


@transaction.atomic
def referral_reward_fulfil(*, reward: ReferralReward) -> ReferralReward:
    reward = ReferralReward.objects.select_for_update().get(pk=reward.pk)
    if reward.status != ReferralReward.Status.FULFILLED:
        reward.status, reward.fulfilled_at = ReferralReward.Status.FULFILLED, timezone.now()
        reward.save(update_fields=["status", "fulfilled_at"])
    return reward


# Personal data: a homeowner's export and erasure, and the lost-lead retention rule ---------------------------------

CUSTOMER_RECORD = "leads.customer"  # how the privacy log names a customer


def _csv_bytes(table: list[dict]) -> bytes:
    columns = list(dict.fromkeys(key for row in table for key in row))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in table:
        writer.writerow(csv_cell(row.get(column)) for column in columns)
    # With a byte-order mark, spreadsheet programs read the Chinese text as UTF-8.
    return out.getvalue().encode("utf-8-sig")


def _export_readme(*, customer: Customer, tables: list[str], files: list[str], firm) -> str:
    lines = [
        _("Personal data of customer #%(id)s, exported by %(firm)s on %(date)s.")
        % {"id": customer.pk, "firm": firm.name, "date": timezone.localtime(timezone.now(), firm.zone).date()},
        "",
        _(
            "customer.json holds everything in one file: the profile, properties, leads and follow-ups, and one "
            "section for each stage of the renovation (quotations and contracts, construction and handover, "
            "warranty and repairs, callbacks and surveys, complaints)."
        ),
        _("The csv folder holds the same records, one table a file, for spreadsheet programs."),
        _("The files folder holds the documents, photos and signatures listed in those records."),
        "",
        _("Tables:"),
        *(f"  csv/{name}.csv" for name in tables),
    ]
    if files:
        lines += ["", _("Files:"), *(f"  {path}" for path in files)]
    return "\n".join(lines) + "\n"


@transaction.atomic
def customer_data_export(*, customer: Customer, by=None, note: str = "") -> bytes:
    """Everything the firm holds about a homeowner, as a ZIP (customer.json, one CSV a table, the files and a
    README in the firm's language), recorded as an export request in the privacy log."""
    firm = require_current_tenant()
    customer = Customer.objects.get(pk=customer.pk)
    core = personal_data.export(customer)
    profile = core.pop("customer")[0]
    sections = {section.name: section.export(customer) for section in registry.sections()}
    files = [
        (f"files/{section.name}/{path}", content)
        for section in registry.sections()
        if section.files
        for path, content in section.files(customer)
    ]
    document = {
        "exported_at": plain(timezone.now()),
        "firm": firm.name,
        "customer": profile,
        **core,
        "sections": sections,
        "files": [path for path, _content in files],
    }
    tables = {"leads.customer": [profile], **{f"leads.{name}": table for name, table in core.items()}}
    for section, section_tables in sections.items():
        tables.update({f"{section}.{name}": table for name, table in section_tables.items()})

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("customer.json", json.dumps(document, ensure_ascii=False, indent=2))
        for name, table in tables.items():
            archive.writestr(f"csv/{name}.csv", _csv_bytes(table))
        written = []
        for path, content in files:
            if isinstance(content, bytes):
                archive.writestr(path, content)
            else:
                try:
                    # Copied in chunks: a progress video need not sit in memory twice.
                    with content.open("rb") as stored, archive.open(path, "w") as raw:
                        shutil.copyfileobj(stored, raw)
                except (FileNotFoundError, OSError):
                    continue  # listed in customer.json; the stored file is gone
            written.append(path)
        with translation.override(firm.language):
            archive.writestr(
                "README.txt", _export_readme(customer=customer, tables=list(tables), files=written, firm=firm)
            )
    DataRequest.objects.create(
        kind=DataRequest.Kind.EXPORT,
        subject_type=CUSTOMER_RECORD,
        subject_id=str(customer.pk),
        requested_by=by,
        note=note[:300],
    )
    return buffer.getvalue()


@transaction.atomic
def customer_erase(*, customer: Customer, by=None, note: str = "") -> Customer:
    """Erase a homeowner on request (PIPL): refused, naming why, while a later stage still needs them (a
    worksite under construction, an open repair or complaint). Otherwise, in one transaction: every stage's
    personal data of the customer is anonymised, their own files deleted (after commit), the customer, their
    properties and leads anonymised, the old values redacted in the audit trail, notifications to and about
    them scrubbed, and the request recorded. The firm's figures stay. A second call changes nothing."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    reasons = registry.erasure_blocks(customer)
    if reasons:
        raise ValidationError(reasons)
    identifiers = registry.identifiers(customer)  # read before anything changes, for every section's notes
    old_mobile = customer.mobile
    now = timezone.now()

    for section in registry.sections():
        section.erase(customer)
    personal_data.erase(customer, now=now)

    if identifiers:
        # Texts sent to the homeowner, and staff notices naming them (the outbox keeps no audit trail).
        mentions = reduce(or_, (Q(body__contains=value) | Q(subject__contains=value) for value in identifiers))
        Notification.objects.filter(mentions | Q(recipient=old_mobile)).update(
            recipient=Case(
                When(recipient=old_mobile, then=Value(personal_data.erased_mobile(customer))), default=F("recipient")
            ),
            subject=registry.scrubbed(Notification, "subject", customer),
            body=registry.scrubbed(Notification, "body", customer),
        )

    DataRequest.objects.create(
        kind=DataRequest.Kind.ERASURE,
        subject_type=CUSTOMER_RECORD,
        subject_id=str(customer.pk),
        requested_by=by,
        note=note[:300],
    )
    customer.refresh_from_db()
    return customer


@transaction.atomic
def lost_leads_anonymise(*, now: datetime | None = None, batch: int = 500, sweep: Sweep | None = None) -> int:
    """The firm's retention rule: lost leads untouched for longer than the firm keeps them are anonymised,
    oldest first, ``batch`` at a time (rows another run holds are skipped, not waited for). Their customer
    is erased too when nothing else of theirs is in use: no other lead still kept, no pending referral
    reward, and no later stage holding or blocking them (a contract, a complaint). A batch that fails is
    done again one lead at a time, each in its own savepoint: the lead that fails is recorded and retried
    later with backoff (``renocrm.sweeps``) while the others are anonymised. Returns how many leads were
    anonymised; running again finds nothing more to do."""
    now = now or timezone.now()
    sweep = sweep or Sweep(RETENTION_SWEEP, batch_size=batch)
    cutoff = now - timedelta(days=privacy_settings().lost_lead_retention_days)
    due = Lead.objects.filter(status=Lead.Status.LOST, anonymised_at__isnull=True, updated_at__lt=cutoff)
    pks = list(
        sweep.batch(
            due.order_by("updated_at", "pk").select_for_update(skip_locked=True).values_list("pk", flat=True),
            size=batch,
        )
    )
    return sweep.run_together(pks, _lost_leads_anonymise, now=now, key=lambda pk: pk)


def _lost_leads_anonymise(pks: list[int], *, now: datetime) -> int:
    leads = Lead.objects.filter(pk__in=pks)
    personal_data.anonymise_leads(leads, now=now)

    kept = Lead.objects.filter(customer=OuterRef("pk"), anonymised_at__isnull=True)
    owed = ReferralReward.objects.filter(referrer=OuterRef("pk"), status=ReferralReward.Status.PENDING)
    free = (
        Customer.objects.filter(pk__in=leads.values("customer_id"), anonymised_at__isnull=True)
        .exclude(Exists(kept))
        .exclude(Exists(owed))
        .order_by("pk")
    )
    with translation.override(require_current_tenant().language):
        note = _("Lost-lead retention")
    for customer in free:
        if not (registry.is_held(customer) or registry.erasure_blocks(customer)):
            customer_erase(customer=customer, note=note)
    return len(pks)
