"""Writes for aftercare (售后): warranty coverages from the firm's policy, repair requests (报修) and their
lifecycle, SLA breaches, warranty-expiry reminders and member care."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import chinese_calendar
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftercare.models import (
    AftercareSettings,
    Area,
    CareMessage,
    CareOptOut,
    Coverage,
    CoverageRule,
    RepairPhoto,
    RepairRequest,
    RepairVisit,
    WarrantyReminder,
)
from contracts.models import Contract, Project, QuotationItem, TradeCategory
from leads.models import Customer
from renocrm.accounts.staff import firm_admins, require_staff_role
from renocrm.calendar import add_months, calendar_years
from renocrm.outbox.models import Notification
from renocrm.outbox.services import event_emit, notification_send, notify_staff
from renocrm.sweeps.services import Sweep
from renocrm.tenancy.context import require_current_tenant
from renocrm.tenancy.defaults import firm_copy_get
from renocrm.tenancy.time import firm_today
from renocrm.uploads import IMAGE, clean_upload
from worksites.models import PortalAction, Worksite
from worksites.services.portal import portal_action_record

# A homeowner's phone shows a handful of photos of a leak; more is rarely useful and slows a mobile upload.
MAX_PHOTOS = 9
# The sweepers' names in renocrm.sweeps (their failures and backoff).
REPAIR_SLA_SWEEP = "repair-sla"
WARRANTY_REMINDER_SWEEP = "warranty-reminders"
MEMBER_CARE_SWEEP = "member-care"


# Settings ----------------------------------------------------------------------------------------------------


def aftercare_settings_get() -> AftercareSettings:
    """The firm's aftercare settings, created with the defaults the first time they are needed."""
    found, _created = AftercareSettings.objects.get_or_create()
    return found


MAX_REMINDER_DAYS = 365


@transaction.atomic
def aftercare_settings_update(
    *,
    repair_response_hours: int,
    repair_on_site_hours: int,
    warranty_reminder_days: list[int],
    birthday_greetings: bool,
    holiday_greetings: bool,
    free_inspection_offer_days: int,
) -> AftercareSettings:
    errors = {}
    if repair_response_hours < 1:
        errors["repair_response_hours"] = _("Give at least one hour.")
    if repair_on_site_hours < 1:
        errors["repair_on_site_hours"] = _("Give at least one hour.")
    elif repair_on_site_hours < repair_response_hours:
        errors["repair_on_site_hours"] = _("Being on site cannot come before the first response.")
    days = sorted(set(warranty_reminder_days), reverse=True)
    if len(days) > 5:
        errors["warranty_reminder_days"] = _("At most five reminders before a warranty ends.")
    elif any(d < 1 or d > MAX_REMINDER_DAYS for d in days):
        errors["warranty_reminder_days"] = _("Each reminder is between 1 and 365 days before the end.")
    if free_inspection_offer_days > MAX_REMINDER_DAYS:
        errors["free_inspection_offer_days"] = _("At most 365 days before the end (0 turns the offer off).")
    if errors:
        raise ValidationError(errors)
    found = AftercareSettings.objects.select_for_update().filter(pk=aftercare_settings_get().pk).get()
    found.repair_response_hours = repair_response_hours
    found.repair_on_site_hours = repair_on_site_hours
    found.warranty_reminder_days = days
    found.birthday_greetings = birthday_greetings
    found.holiday_greetings = holiday_greetings
    found.free_inspection_offer_days = free_inspection_offer_days
    found.save()
    return found


# The firm's warranty policy -----------------------------------------------------------------------------------

# (name, area, trade, keywords, months): the policy a firm starts with, in its own language from then on.
DEFAULT_RULES = [
    (gettext_lazy("General works"), Area.WHOLE_HOME, "", "", 24),
    (gettext_lazy("Kitchen waterproofing"), Area.KITCHEN, TradeCategory.WATERPROOFING, "防水, waterproof", 60),
    (gettext_lazy("Bathroom waterproofing"), Area.BATHROOM, TradeCategory.WATERPROOFING, "防水, waterproof", 60),
]


def coverage_rules_get() -> list[CoverageRule]:
    """The firm's coverage rules, seeded from the default policy the first time they are needed."""
    return firm_copy_get(
        CoverageRule,
        default=lambda: [
            CoverageRule(position=n, name=str(name), area=area, trade=trade, keywords=keywords, months=months)
            for n, (name, area, trade, keywords, months) in enumerate(DEFAULT_RULES, start=1)
        ],
    )


def _keywords(text: str) -> list[str]:
    return [word.strip().lower() for word in re.split(r"[,，、;；]", text or "") if word.strip()]


@transaction.atomic
def coverage_rules_save(*, rows: list[dict]) -> list[CoverageRule]:
    """Save the firm's rules in the order given: a row with an ``id`` edits that rule, one without adds a
    rule. Rules are never deleted (coverages started from them point at them): a firm turns one off.
    Coverages already started keep their dates."""
    existing = {rule.pk: rule for rule in CoverageRule.objects.select_for_update()}
    errors = []
    cleaned = []
    for row in rows:
        name = str(row.get("name") or "").strip()
        area, trade = row.get("area") or Area.WHOLE_HOME, row.get("trade") or ""
        months = row.get("months")
        if not name:
            errors.append(_("Name each rule."))
        if area not in Area.values:
            errors.append(_("Choose the area of each rule."))
        if trade and trade not in TradeCategory.values:
            errors.append(_("Choose a trade from the list or leave it empty."))
        if not isinstance(months, int) or months < 1 or months > 600:
            errors.append(_("A warranty lasts between 1 and 600 months."))
        pk = row.get("id")
        if pk and pk not in existing:
            errors.append(_("One of the rules no longer exists; reload the page."))
        cleaned.append((pk, name, area, trade, ", ".join(_keywords(row.get("keywords", ""))), months, row))
    if errors:
        raise ValidationError(sorted(set(errors), key=errors.index))
    if not any(row.get("is_active", True) for *_rest, row in cleaned) and not any(
        rule.is_active for pk, rule in existing.items() if pk not in {c[0] for c in cleaned}
    ):
        raise ValidationError(_("Keep at least one rule active."))
    saved, seen = [], set()
    # Positions are renumbered in the order shown; the unique key on positions is checked at commit.
    position = 0
    for pk, name, area, trade, keywords, months, row in cleaned:
        position += 1
        rule = existing[pk] if pk else CoverageRule()
        rule.position, rule.name, rule.area, rule.trade = position, name, area, trade
        rule.keywords, rule.months, rule.is_active = keywords, months, bool(row.get("is_active", True))
        rule.save()
        seen.add(rule.pk)
        saved.append(rule)
    for pk, rule in sorted(existing.items(), key=lambda item: (item[1].position, item[0])):
        if pk not in seen:
            position += 1
            rule.position = position
            rule.save(update_fields=["position"])
            saved.append(rule)
    return saved


# Which rules a project's quotation calls for ------------------------------------------------------------------

# Words by which a quotation line names the room it is about; 厨卫 is the kitchen and the bathroom together.
AREA_WORDS = {
    Area.KITCHEN: ("厨房", "厨卫", "kitchen"),
    Area.BATHROOM: ("卫生间", "浴室", "厨卫", "卫浴", "bathroom", "toilet"),
    Area.BALCONY: ("阳台", "balcony"),
    Area.LIVING_ROOM: ("客厅", "living"),
    Area.BEDROOM: ("卧室", "bedroom"),
}
ALL_AREA_WORDS = tuple({word for words in AREA_WORDS.values() for word in words})


def _names_any(text: str, words) -> bool:
    return any(word in text for word in words)


def rule_applies(rule: CoverageRule, lines: list[tuple[str, str]]) -> bool:
    """Whether a rule covers a project whose signed quotation has these (category, item name) lines."""
    keywords = _keywords(rule.keywords)
    if not rule.trade and not keywords:
        return True
    area_words = AREA_WORDS.get(rule.area, ())
    for category, name in lines:
        text = name.lower()
        if not ((rule.trade and category == rule.trade) or _names_any(text, keywords)):
            continue
        if rule.area == Area.WHOLE_HOME or _names_any(text, area_words) or not _names_any(text, ALL_AREA_WORDS):
            return True
    return False


@transaction.atomic
def coverages_start(*, project: Project, contract: Contract | None, handed_over_on: date) -> list[Coverage]:
    """Start the project's warranties from the firm's active rules, counted from the handover date. Safe to
    run twice: one coverage per project and rule (a unique key)."""
    rules = [rule for rule in coverage_rules_get() if rule.is_active]
    lines: list[tuple[str, str]] = []
    if contract is not None:
        lines = list(
            QuotationItem.objects.filter(version_id=contract.quotation_version_id).values_list("category", "name")
        )
    Coverage.objects.bulk_create(
        [
            Coverage(
                project=project,
                rule=rule,
                name=rule.name,
                area=rule.area,
                trade=rule.trade,
                starts_on=handed_over_on,
                ends_on=add_months(handed_over_on, rule.months),
            )
            for rule in rules
            if rule_applies(rule, lines)
        ],
        ignore_conflicts=True,
    )
    return list(Coverage.objects.filter(project=project))


def on_project_handed_over(event) -> None:
    """``project.handed_over``, in the handover's own transaction: the warranties start with it or not at
    all."""
    payload = event.payload
    project = Project.objects.get(pk=payload["project_id"])
    contract = Contract.objects.filter(pk=payload.get("contract_id")).first()
    coverages_start(project=project, contract=contract, handed_over_on=date.fromisoformat(payload["handed_over_on"]))


def _check_coverage(*, name: str, area: str, trade: str, starts_on: date | None, ends_on: date | None) -> dict:
    errors = {}
    if not (name or "").strip():
        errors["name"] = _("Name the coverage.")
    if area not in Area.values:
        errors["area"] = _("Choose the area it covers.")
    if trade and trade not in TradeCategory.values:
        errors["trade"] = _("Choose a trade from the list or leave it empty.")
    if starts_on is None:
        errors["starts_on"] = _("Give the day the warranty starts.")
    if ends_on is None:
        errors["ends_on"] = _("Give the day the warranty ends.")
    elif starts_on is not None and ends_on <= starts_on:
        errors["ends_on"] = _("The warranty must end after it starts.")
    return errors


@transaction.atomic
def coverage_create(
    *,
    project: Project,
    name: str,
    starts_on: date | None,
    area: str = Area.WHOLE_HOME,
    ends_on: date | None = None,
    months: int | None = None,
    trade: str = "",
    notes: str = "",
) -> Coverage:
    """A coverage staff add by hand (an extended warranty, a component with its own guarantee). The end is
    given, or counted in months from the start."""
    if ends_on is None and months and starts_on is not None:
        ends_on = add_months(starts_on, months)
    errors = _check_coverage(name=name, area=area, trade=trade or "", starts_on=starts_on, ends_on=ends_on)
    if errors:
        raise ValidationError(errors)
    return Coverage.objects.create(
        project=project,
        name=name.strip(),
        area=area,
        trade=trade or "",
        starts_on=starts_on,
        ends_on=ends_on,
        notes=(notes or "").strip(),
    )


@transaction.atomic
def coverage_update(*, coverage: Coverage, **fields) -> Coverage:
    """Edit a coverage (its name, area, trade, dates, notes). Repairs already opened keep their decision."""
    coverage = Coverage.objects.select_for_update().get(pk=coverage.pk)
    allowed = {"name", "area", "trade", "starts_on", "ends_on", "notes"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(_("These fields cannot be changed: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    for key, value in fields.items():
        setattr(coverage, key, value if value is not None or key in ("starts_on", "ends_on") else "")
    coverage.name, coverage.notes = (coverage.name or "").strip(), (coverage.notes or "").strip()
    coverage.trade = coverage.trade or ""
    errors = _check_coverage(
        name=coverage.name,
        area=coverage.area,
        trade=coverage.trade,
        starts_on=coverage.starts_on,
        ends_on=coverage.ends_on,
    )
    if errors:
        raise ValidationError(errors)
    coverage.save()
    return coverage


# Coverage check ----------------------------------------------------------------------------------------------


def coverage_for(project: Project, area: str, trade: str = "", *, on: date | None = None) -> Coverage | None:
    """The coverage of a project that covers a repair in this area (and trade, when given) on a day: one of
    the area or the whole home, of no trade or of the request's trade, running on that day. The most specific wins:
    the exact area, then the exact trade, then the one that lasts longest."""
    on = on or firm_today()
    candidates = Coverage.objects.filter(project=project, starts_on__lte=on, ends_on__gte=on).filter(
        Q(area=area) | Q(area=Area.WHOLE_HOME)
    )
    if trade:
        # Without a trade named, a coverage of any trade in the area counts.
        candidates = candidates.filter(Q(trade="") | Q(trade=trade))
    return (
        candidates.annotate(
            area_rank=Case(When(area=area, then=Value(0)), default=Value(1), output_field=IntegerField()),
            trade_rank=Case(
                When(~Q(trade="") & Q(trade=trade), then=Value(0)), default=Value(1), output_field=IntegerField()
            ),
        )
        .order_by("area_rank", "trade_rank", "-ends_on", "id")
        .first()
    )


# Repair requests ---------------------------------------------------------------------------------------------


def _clean_photos(photos) -> list:
    """Every photo checked before anything is stored: one bad file refuses them all."""
    photos = [p for p in photos or () if p]
    if len(photos) > MAX_PHOTOS:
        message = _("At most %(max)s photos per repair request; you chose %(count)s.")
        raise ValidationError({"photos": message % {"max": MAX_PHOTOS, "count": len(photos)}})
    cleaned, problems = [], []
    for upload in photos:
        try:
            cleaned.append(clean_upload(upload, accept={IMAGE}))
        except ValidationError as error:
            problems.extend(error.error_list)
    if problems:
        raise ValidationError({"photos": problems})
    return cleaned


def _store_photos(repair: RepairRequest, cleaned: list) -> None:
    stored: list[RepairPhoto] = []
    try:
        for upload in cleaned:
            stored.append(RepairPhoto.objects.create(repair=repair, file=upload.content))
    except Exception:
        # The rows roll back with the transaction; the files written so far would be left behind.
        for photo in stored:
            photo.file.delete(save=False)
        raise


def _default_assignee(project: Project):
    worksite = Worksite.objects.filter(project=project).select_related("customer_service").first()
    agent = worksite.customer_service if worksite is not None else None
    if agent is not None and agent.is_active:
        return agent
    return None


@transaction.atomic
def repair_request_open(
    *,
    project: Project,
    area: str,
    description: str,
    trade: str = "",
    source: str = RepairRequest.Source.STAFF,
    reported_at: datetime | None = None,
    created_by=None,
    photos=(),
) -> RepairRequest:
    """Record a repair request (报修) for a project. Whether the warranty covers it is decided now, from the
    project's coverages on the reporting day (firm time); work out of warranty is still recorded and is
    chargeable. The response and on-site deadlines follow the firm's SLA hours, and the worksite's
    customer-service agent gets the request."""
    description = (description or "").strip()
    trade = (trade or "").strip()
    errors = {}
    if area not in Area.values:
        errors["area"] = _("Choose the area that needs the repair.")
    if not description:
        errors["description"] = _("Describe what needs repairing.")
    if source not in RepairRequest.Source.values:
        errors["source"] = _("Unknown source of the request.")
    if trade and trade not in TradeCategory.values:
        errors["trade"] = _("Choose a trade from the list or leave it empty.")
    if errors:
        raise ValidationError(errors)
    cleaned = _clean_photos(photos)

    reported_at = reported_at or timezone.now()
    reported_day = timezone.localtime(reported_at, require_current_tenant().zone).date()
    coverage = coverage_for(project, area, trade, on=reported_day)
    settings = aftercare_settings_get()
    repair = RepairRequest.objects.create(
        project=project,
        area=area,
        trade=trade,
        description=description,
        source=source,
        reported_at=reported_at,
        coverage=coverage,
        is_covered=coverage is not None,
        assigned_to=_default_assignee(project),
        respond_by=reported_at + timedelta(hours=settings.repair_response_hours),
        on_site_by=reported_at + timedelta(hours=settings.repair_on_site_hours),
        created_by=created_by,
    )
    _store_photos(repair, cleaned)
    event_emit(
        event_type="repair.opened",
        payload={
            "id": repair.pk,
            "project_id": project.pk,
            "customer_id": project.customer_id,
            "area": area,
            "trade": trade,
            "is_covered": repair.is_covered,
            "source": source,
        },
    )
    return repair


def _repair_locked(repair: RepairRequest) -> RepairRequest:
    return RepairRequest.objects.select_for_update().select_related("project").get(pk=repair.pk)


def _require_status(repair: RepairRequest, allowed, message: str) -> None:
    if repair.status not in allowed:
        raise ValidationError(message % {"status": repair.get_status_display()}, code="invalid_transition")


def _emit(event_type: str, repair: RepairRequest, **extra) -> None:
    event_emit(
        event_type=event_type,
        payload={"id": repair.pk, "project_id": repair.project_id, "status": repair.status, **extra},
    )


def _log(repair: RepairRequest, kind: str, note: str, by, at: datetime | None = None) -> RepairVisit:
    return RepairVisit.objects.create(repair=repair, kind=kind, note=note, by=by, at=at or timezone.now())


@transaction.atomic
def repair_request_assign(*, repair: RepairRequest, agent, by=None) -> RepairRequest:
    """Give a repair to a staff member (None takes it back). Only while the repair is open."""
    repair = _repair_locked(repair)
    _require_status(repair, RepairRequest.OPEN_STATUSES, _("A repair that is %(status)s cannot be reassigned."))
    require_staff_role(agent, field="agent")
    repair.assigned_to = agent
    repair.save(update_fields=["assigned_to"])
    if agent is not None:
        _log(repair, RepairVisit.Kind.NOTE, _("Assigned to %(agent)s.") % {"agent": agent}, by)
    _emit("repair.assigned", repair, assigned_to=agent.pk if agent is not None else None)
    return repair


@transaction.atomic
def repair_visit_log(
    *, repair: RepairRequest, kind: str, note: str, by=None, at: datetime | None = None
) -> RepairVisit:
    """One entry of the visit log. A call to the homeowner answers the request (the response SLA), and the
    first visit on site records being on site (which also counts as the response if no call came first)."""
    repair = _repair_locked(repair)
    note = (note or "").strip()
    if kind not in RepairVisit.Kind.values:
        raise ValidationError({"kind": _("Choose a call, a visit or a note.")})
    if not note:
        raise ValidationError({"note": _("Say what was done or agreed.")})
    now = timezone.now()
    at = at or now
    if at > now + timedelta(minutes=5):
        raise ValidationError({"at": _("A log entry cannot be in the future.")})
    if at < repair.reported_at:
        raise ValidationError({"at": _("A log entry cannot be before the repair was reported.")})
    if kind == RepairVisit.Kind.NOTE:
        allowed = (*RepairRequest.OPEN_STATUSES, RepairRequest.Status.RESOLVED)
    else:
        allowed = RepairRequest.OPEN_STATUSES
    _require_status(repair, allowed, _("A repair that is %(status)s takes no more calls or visits."))
    entry = _log(repair, kind, note, by, at)
    changed = []
    if kind in (RepairVisit.Kind.CALL, RepairVisit.Kind.VISIT) and repair.responded_at is None:
        repair.responded_at = at
        changed.append("responded_at")
        if repair.status == RepairRequest.Status.OPEN:
            repair.status = RepairRequest.Status.RESPONDED
            changed.append("status")
    if kind == RepairVisit.Kind.VISIT and repair.on_site_at is None:
        repair.on_site_at, repair.status = at, RepairRequest.Status.ON_SITE
        changed += ["on_site_at", "status"]
    if changed:
        repair.save(update_fields=sorted(set(changed)))
    _emit("repair.visit_logged", repair, kind=kind, visit_id=entry.pk)
    return entry


@transaction.atomic
def repair_request_respond(*, repair: RepairRequest, note: str, by=None, at: datetime | None = None) -> RepairRequest:
    """The first answer to the homeowner (a call), recorded with the time for the response SLA."""
    locked = _repair_locked(repair)
    if locked.responded_at is not None:
        raise ValidationError(_("This repair has already been answered."), code="invalid_transition")
    _require_status(locked, (RepairRequest.Status.OPEN,), _("A repair that is %(status)s cannot be answered."))
    repair_visit_log(repair=locked, kind=RepairVisit.Kind.CALL, note=note, by=by, at=at)
    locked.refresh_from_db()
    _emit("repair.responded", locked, responded_at=locked.responded_at.isoformat())
    return locked


@transaction.atomic
def repair_request_resolve(
    *, repair: RepairRequest, resolution: str, charge: Decimal | None = None, by=None
) -> RepairRequest:
    """Record the repair as done. Work under warranty is free; a charge is only for work out of warranty."""
    repair = _repair_locked(repair)
    _require_status(repair, RepairRequest.OPEN_STATUSES, _("A repair that is %(status)s cannot be resolved."))
    resolution = (resolution or "").strip()
    errors = {}
    if not resolution:
        errors["resolution"] = _("Say what was done.")
    if charge is not None:
        if charge < 0:
            errors["charge"] = _("A charge cannot be negative.")
        elif charge > 0 and repair.is_covered:
            errors["charge"] = _("This repair is under warranty: it cannot be charged.")
    if errors:
        raise ValidationError(errors)
    repair.status, repair.resolution, repair.charge = RepairRequest.Status.RESOLVED, resolution, charge
    repair.resolved_at = timezone.now()
    repair.save(update_fields=["status", "resolution", "charge", "resolved_at"])
    _log(repair, RepairVisit.Kind.NOTE, _("Resolved: %(resolution)s") % {"resolution": resolution}, by)
    event_emit(
        event_type="repair.resolved",
        payload={"id": repair.pk, "project_id": repair.project_id, "is_covered": repair.is_covered},
    )
    return repair


@transaction.atomic
def repair_request_confirm(*, repair: RepairRequest, satisfied: bool, comment: str = "", by=None) -> RepairRequest:
    """The homeowner's word on a resolved repair (through the portal, or given to staff). Satisfied closes
    it; not satisfied sends it back to open, the comment in the log."""
    repair = _repair_locked(repair)
    _require_status(
        repair, (RepairRequest.Status.RESOLVED,), _("Only a resolved repair can be confirmed; this one is %(status)s.")
    )
    comment = (comment or "").strip()
    if not satisfied and not comment:
        raise ValidationError({"comment": _("Say what is still wrong.")})
    repair.homeowner_satisfied, repair.homeowner_comment = satisfied, comment
    if satisfied:
        repair.status, repair.confirmed_at = RepairRequest.Status.CONFIRMED, timezone.now()
        repair.save(update_fields=["status", "confirmed_at", "homeowner_satisfied", "homeowner_comment"])
    else:
        note = _("The homeowner is not satisfied: %(comment)s (earlier resolution: %(resolution)s)") % {
            "comment": comment,
            "resolution": repair.resolution,
        }
        _log(repair, RepairVisit.Kind.NOTE, note, by)
        repair.status, repair.resolved_at, repair.confirmed_at = RepairRequest.Status.OPEN, None, None
        repair.save(update_fields=["status", "resolved_at", "confirmed_at", "homeowner_satisfied", "homeowner_comment"])
    _emit("repair.confirmed", repair, satisfied=satisfied)
    return repair


@transaction.atomic
def repair_request_cancel(*, repair: RepairRequest, reason: str, by=None) -> RepairRequest:
    """Cancel a repair that is not needed (reported twice, fixed by the homeowner), saying why."""
    repair = _repair_locked(repair)
    _require_status(repair, RepairRequest.OPEN_STATUSES, _("A repair that is %(status)s cannot be cancelled."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the repair is cancelled.")})
    repair.status = RepairRequest.Status.CANCELLED
    repair.save(update_fields=["status"])
    _log(repair, RepairVisit.Kind.NOTE, _("Cancelled: %(reason)s") % {"reason": reason}, by)
    _emit("repair.cancelled", repair, reason=reason)
    return repair


# Reaching people -----------------------------------------------------------------------------------------------


def _tell_staff(users_with_keys: list[tuple], *, subject: str, body: str) -> int:
    sent = [notify_staff(user, subject=subject, body=body, idempotency_key=key) for user, key in users_with_keys]
    return sum(1 for notification in sent if notification is not None)


def _staff_for(agent, key: str) -> list[tuple]:
    """The agent with the key, else each of the firm's admins with the key and their id."""
    if agent is not None and agent.is_active:
        return [(agent, key)]
    return [(admin, f"{key}:{admin.pk}") for admin in firm_admins()]


# SLA breaches --------------------------------------------------------------------------------------------------

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
            _tell_staff(
                _staff_for(repair.assigned_to, f"repair-sla:{repair.pk}:{breach}"),
                subject=_("Repair #%(number)s is overdue") % values,
                body=f"{tenant.name}: {body}",
            )
            event_emit(
                event_type="repair.sla_breached",
                payload={"id": repair.pk, "project_id": repair.project_id, "breach": breach},
            )
            raised += 1
    return raised


# Warranty-expiry reminders -------------------------------------------------------------------------------------


def _inserted(model, **fields) -> object | None:
    """Insert a row guarded by a unique key; None when another run has it already (or is inserting it: the
    insert waits for that run to finish and then yields to it)."""
    try:
        with transaction.atomic():
            return model.objects.create(**fields)
    except IntegrityError:
        return None


def _customer_service_of(project_id: int):
    worksite = Worksite.objects.filter(project_id=project_id).select_related("customer_service").first()
    return worksite.customer_service if worksite is not None else None


@transaction.atomic
def warranty_reminders_send(*, today: date | None = None, sweep: Sweep | None = None) -> int:
    """Remind the homeowner (SMS) and customer service that a warranty ends soon, once per coverage and lead
    time in the firm's settings. When several lead times are due at once (a late start, a beat that was
    down), only the nearest is sent and the others are recorded as skipped. The reminder row's unique key
    decides: a run acts only on the rows it inserted, so two runs at once send each reminder once. Returns
    how many reminders were sent. One bounded batch of coverages, each in its own savepoint: a coverage that
    fails is recorded and retried later (``renocrm.sweeps``) without holding up the others."""
    today = today or firm_today()
    sweep = sweep or Sweep(WARRANTY_REMINDER_SWEEP)
    leads = sorted(set(aftercare_settings_get().warranty_reminder_days))
    if not leads:
        return 0
    in_window = Coverage.objects.filter(ends_on__gte=today, ends_on__lte=today + timedelta(days=max(leads)))
    if sweep.held:
        in_window = in_window.exclude(pk__in=list(sweep.held))
    coverages = list(in_window.select_related("project__customer").order_by("id"))
    recorded = set(WarrantyReminder.objects.filter(coverage__in=coverages).values_list("coverage_id", "days_before"))
    sent = 0
    for coverage in coverages:
        due = [lead for lead in leads if coverage.ends_on - timedelta(days=lead) <= today]
        new = [lead for lead in due if (coverage.pk, lead) not in recorded]
        if not new:
            continue
        if sweep.full:
            break
        sent += (
            sweep.run(coverage.pk, _warranty_reminders_record, coverage, new=new, nearest=min(due), today=today) or 0
        )
    return sent


def _warranty_reminders_record(coverage: Coverage, *, new: list[int], nearest: int, today: date) -> int:
    tenant = require_current_tenant()
    sent = 0
    with translation.override(tenant.language):
        # Nearest first, in the same order in every run, so concurrent runs wait on the same row.
        for lead in sorted(new):
            row = _inserted(
                WarrantyReminder, coverage=coverage, days_before=lead, sent_on=today, skipped=lead != nearest
            )
            if row is None or row.skipped:
                continue
            _warranty_remind(tenant, coverage, lead)
            sent += 1
    return sent


def _warranty_remind(tenant, coverage: Coverage, lead: int) -> None:
    customer = coverage.project.customer
    values = {
        "firm": tenant.name,
        "name": customer.name,
        "coverage": coverage.name,
        "project": coverage.project.name,
        "ends_on": coverage.ends_on.isoformat(),
        "phone": tenant.phone,
    }
    key = f"warranty-reminder:{coverage.pk}:{lead}"
    if customer.mobile:
        if tenant.phone:
            body = _(
                "%(firm)s: Dear %(name)s, the %(coverage)s warranty of %(project)s ends on %(ends_on)s. "
                "If anything needs repairing, call us on %(phone)s before then."
            )
        else:
            body = _(
                "%(firm)s: Dear %(name)s, the %(coverage)s warranty of %(project)s ends on %(ends_on)s. "
                "If anything needs repairing, report it before then."
            )
        notification_send(
            channel=Notification.Channel.SMS, recipient=customer.mobile, body=body % values, idempotency_key=key
        )
    staff_body = _("The %(coverage)s warranty of %(project)s (%(name)s) ends on %(ends_on)s.") % values
    _tell_staff(
        _staff_for(_customer_service_of(coverage.project_id), f"{key}:staff"),
        subject=_("A warranty ends soon: %(project)s") % values,
        body=staff_body,
    )
    event_emit(
        event_type="warranty.expiring",
        payload={
            "coverage_id": coverage.pk,
            "project_id": coverage.project_id,
            "customer_id": customer.pk,
            "ends_on": coverage.ends_on.isoformat(),
            "days_before": lead,
        },
    )


# Member care ---------------------------------------------------------------------------------------------------

CARE_FROM_HOUR = 9
# The holidays greeted, by the name the chinesecalendar package gives them.
GREETED_HOLIDAYS = {
    chinese_calendar.Holiday.spring_festival.value: gettext_lazy("Happy Spring Festival"),
    chinese_calendar.Holiday.mid_autumn_festival.value: gettext_lazy("Happy Mid-Autumn Festival"),
    chinese_calendar.Holiday.national_day.value: gettext_lazy("Happy National Day"),
}
NATIONAL_DAY = chinese_calendar.Holiday.national_day.value


def _holiday_name(day: date) -> str | None:
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    return name if on_holiday else None


def holiday_starting(day: date) -> str | None:
    """The greeted holiday whose first day is ``day``, if any. Past the calendar data only National Day is
    known (1 October); the lunar holidays are not published that far ahead."""
    if day.year > calendar_years()[1]:
        return NATIONAL_DAY if (day.month, day.day) == (10, 1) else None
    name = _holiday_name(day)
    if name not in GREETED_HOLIDAYS:
        return None
    return name if _holiday_name(day - timedelta(days=1)) != name else None


def _birthday_filter(day: date) -> Q:
    match = Q(birthday__month=day.month, birthday__day=day.day)
    if (day.month, day.day) == (2, 28) and not _is_leap(day.year):
        match |= Q(birthday__month=2, birthday__day=29)
    return match


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def care_customers():
    """Customers member care may write to: with a project handed over, and not opted out."""
    return (
        Customer.objects.filter(projects__handed_over_on__isnull=False)
        .exclude(pk__in=CareOptOut.objects.values("customer_id"))
        .distinct()
    )


def _care_send(tenant, customer: Customer, kind: str, occasion: str, body: str) -> bool:
    if not customer.mobile:
        return False
    if _inserted(CareMessage, customer=customer, kind=kind, occasion=occasion, body=body) is None:
        return False
    notification_send(
        channel=Notification.Channel.SMS,
        recipient=customer.mobile,
        body=body,
        idempotency_key=f"care:{customer.pk}:{occasion}",
    )
    return True


def _not_yet(customers, occasion: str):
    """Those not yet sent the occasion's message, so a batch only takes messages still to send."""
    return customers.exclude(pk__in=CareMessage.objects.filter(occasion=occasion).values("customer_id"))


def _care_try(sweep: Sweep, tenant, customer: Customer, kind: str, occasion: str, body: str) -> int:
    """One message in its own savepoint; past the batch's size the rest wait for the next run."""
    if sweep.full or not customer.mobile:
        return 0
    return int(sweep.run(f"{customer.pk}:{occasion}", _care_send, tenant, customer, kind, occasion, body) or 0)


@transaction.atomic
def member_care_send(*, now: datetime | None = None, sweep: Sweep | None = None) -> int:
    """Birthday and holiday greetings and the free-inspection offer before a warranty ends, from 09:00 firm
    time, to customers with a project handed over who have not opted out. Each goes once per customer and
    occasion (``birthday:<year>``, ``holiday:<name>:<year>``, ``offer:coverage:<id>``): the CareMessage row's
    unique key decides. Returns how many messages were sent. One bounded batch, each message in its own
    savepoint: one that fails is recorded and retried later (``renocrm.sweeps``) without holding up the
    others."""
    tenant = require_current_tenant()
    sweep = sweep or Sweep(MEMBER_CARE_SWEEP)
    now = timezone.localtime(now or timezone.now(), tenant.zone)
    if now.hour < CARE_FROM_HOUR:
        return 0
    today = now.date()
    settings = aftercare_settings_get()
    sent = 0
    values = {"firm": tenant.name}
    with translation.override(tenant.language):
        if settings.birthday_greetings:
            birthdays = care_customers().filter(_birthday_filter(today))
            for customer in _not_yet(birthdays, f"birthday:{today.year}").order_by("pk"):
                body = _("%(firm)s wishes you, %(name)s, a very happy birthday!") % {**values, "name": customer.name}
                sent += _care_try(sweep, tenant, customer, CareMessage.Kind.BIRTHDAY, f"birthday:{today.year}", body)
        holiday = holiday_starting(today) if settings.holiday_greetings else None
        if holiday:
            for customer in _not_yet(care_customers(), f"holiday:{holiday}:{today.year}").order_by("pk"):
                body = _("%(greeting)s, %(name)s! With best wishes from %(firm)s.") % {
                    **values,
                    "greeting": GREETED_HOLIDAYS[holiday],
                    "name": customer.name,
                }
                occasion = f"holiday:{holiday}:{today.year}"
                sent += _care_try(sweep, tenant, customer, CareMessage.Kind.HOLIDAY, occasion, body)
        days = settings.free_inspection_offer_days
        if days:
            offered = CareMessage.objects.filter(occasion__startswith="offer:coverage:").values_list(
                "occasion", flat=True
            )
            coverages = (
                Coverage.objects.filter(
                    ends_on__gte=today,
                    ends_on__lte=today + timedelta(days=days),
                    project__handed_over_on__isnull=False,
                    project__customer__in=care_customers(),
                )
                .select_related("project__customer")
                .order_by("pk")
            )
            done = set(offered)
            for coverage in coverages:
                occasion = f"offer:coverage:{coverage.pk}"
                if occasion in done:
                    continue
                customer = coverage.project.customer
                body = _(
                    "%(firm)s: Dear %(name)s, the %(coverage)s warranty of %(project)s ends on %(ends_on)s. "
                    "Book a free inspection before then and we will check everything for you."
                ) % {
                    **values,
                    "name": customer.name,
                    "coverage": coverage.name,
                    "project": coverage.project.name,
                    "ends_on": coverage.ends_on.isoformat(),
                }
                sent += _care_try(sweep, tenant, customer, CareMessage.Kind.OFFER, occasion, body)
    return sent


@transaction.atomic
def care_opt_out_record(*, customer: Customer, reason: str = "") -> CareOptOut:
    """The customer wants no greetings or offers. Recording it twice keeps the first."""
    opt_out, _created = CareOptOut.objects.get_or_create(
        customer=customer, defaults={"reason": (reason or "").strip()[:200]}
    )
    return opt_out


@transaction.atomic
def care_opt_out_undo(*, customer: Customer) -> None:
    CareOptOut.objects.filter(customer=customer).delete()


# What the homeowner does through the portal link -----------------------------------------------------------------


@transaction.atomic
def portal_repair_report(
    *,
    link,
    area: str,
    description: str,
    trade: str = "",
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
        description=description,
        source=RepairRequest.Source.PORTAL,
        photos=photos,
    )
    if (name or "").strip():
        note = _("Reported through the homeowner portal by %(name)s.") % {"name": name.strip()[:100]}
        _log(repair, RepairVisit.Kind.NOTE, note, None, repair.reported_at)
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
