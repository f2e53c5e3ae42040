"""Repair requests (报修) and their lifecycle: opened with the warranty decision and the SLA deadlines,
triaged (the trade set, the decision made again), assigned, answered, visited, resolved, confirmed by the
homeowner or cancelled."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftercare.models import Area, RepairPhoto, RepairRequest, RepairVisit
from aftercare.selectors import CoverageDecision, coverage_decide
from aftercare.services.policy import aftercare_settings_get
from contracts.models import Project, TradeCategory
from renocrm.accounts.staff import require_staff_role
from renocrm.outbox.services import event_emit
from renocrm.tenancy.context import require_current_tenant
from renocrm.uploads import IMAGE, clean_upload
from worksites.models import Worksite

# A homeowner's phone shows a handful of photos of a leak; more is rarely useful and slows a mobile upload.
MAX_PHOTOS = 9


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


def _check_kind(trade: str, category: str) -> dict:
    errors = {}
    if trade and trade not in TradeCategory.values:
        errors["trade"] = _("Choose a trade from the list or leave it empty.")
    if category and category not in RepairRequest.Category.values:
        errors["category"] = _("Choose the kind of problem from the list or leave it empty.")
    return errors


def _decide(project: Project, area: str, trade: str, category: str, reported_at: datetime) -> CoverageDecision:
    """The warranty decision on the day the repair was reported, in the firm's time."""
    reported_day = timezone.localtime(reported_at, require_current_tenant().zone).date()
    return coverage_decide(project, area, trade, category, on=reported_day)


@transaction.atomic
def repair_request_open(
    *,
    project: Project,
    area: str,
    description: str,
    trade: str = "",
    category: str = "",
    source: str = RepairRequest.Source.STAFF,
    reported_at: datetime | None = None,
    created_by=None,
    photos=(),
) -> RepairRequest:
    """Record a repair request (报修) for a project. Whether the warranty covers it is decided now, from the
    project's coverages on the reporting day (firm time), with the reason kept; work out of warranty is still
    recorded and is chargeable. The response and on-site deadlines follow the firm's SLA hours, and the
    worksite's customer-service agent gets the request."""
    description = (description or "").strip()
    trade, category = (trade or "").strip(), (category or "").strip()
    errors = _check_kind(trade, category)
    if area not in Area.values:
        errors["area"] = _("Choose the area that needs the repair.")
    if not description:
        errors["description"] = _("Describe what needs repairing.")
    if source not in RepairRequest.Source.values:
        errors["source"] = _("Unknown source of the request.")
    if errors:
        raise ValidationError(errors)
    cleaned = _clean_photos(photos)

    reported_at = reported_at or timezone.now()
    decision = _decide(project, area, trade, category, reported_at)
    settings = aftercare_settings_get()
    repair = RepairRequest.objects.create(
        project=project,
        area=area,
        trade=trade,
        category=category,
        description=description,
        source=source,
        reported_at=reported_at,
        coverage=decision.coverage,
        is_covered=decision.is_covered,
        coverage_reason=decision.reason,
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
            "category": category,
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


def repair_log_add(repair: RepairRequest, kind: str, note: str, by, at: datetime | None = None) -> RepairVisit:
    """One entry of the repair's log as the services write it, without the checks of ``repair_visit_log``."""
    return RepairVisit.objects.create(repair=repair, kind=kind, note=note, by=by, at=at or timezone.now())


@transaction.atomic
def repair_request_triage(*, repair: RepairRequest, trade: str, category: str = "", by=None) -> RepairRequest:
    """Staff set (or change) the repair's trade and kind of problem once they know them, while it is open; the
    warranty decision is made again for the day it was reported, and written in the log with its reason."""
    repair = _repair_locked(repair)
    _require_status(
        repair, RepairRequest.OPEN_STATUSES, _("A repair that is %(status)s keeps its trade and warranty decision.")
    )
    trade, category = (trade or "").strip(), (category or "").strip()
    errors = _check_kind(trade, category)
    if errors:
        raise ValidationError(errors)
    decision = _decide(repair.project, repair.area, trade, category, repair.reported_at)
    repair.trade, repair.category = trade, category
    repair.coverage, repair.is_covered, repair.coverage_reason = decision.coverage, decision.is_covered, decision.reason
    repair.save(update_fields=["trade", "category", "coverage", "is_covered", "coverage_reason"])
    note = _("Trade: %(trade)s; kind of problem: %(category)s. %(decision)s.") % {
        "trade": repair.get_trade_display() or _("not given"),
        "category": repair.get_category_display() or _("not given"),
        "decision": repair.coverage_explanation,
    }
    repair_log_add(repair, RepairVisit.Kind.NOTE, note, by)
    _emit("repair.triaged", repair, trade=trade, category=category, is_covered=repair.is_covered)
    return repair


@transaction.atomic
def repair_request_assign(*, repair: RepairRequest, agent, by=None) -> RepairRequest:
    """Give a repair to a staff member (None takes it back). Only while the repair is open."""
    repair = _repair_locked(repair)
    _require_status(repair, RepairRequest.OPEN_STATUSES, _("A repair that is %(status)s cannot be reassigned."))
    require_staff_role(agent, field="agent")
    repair.assigned_to = agent
    repair.save(update_fields=["assigned_to"])
    if agent is not None:
        repair_log_add(repair, RepairVisit.Kind.NOTE, _("Assigned to %(agent)s.") % {"agent": agent}, by)
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
    entry = repair_log_add(repair, kind, note, by, at)
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
    repair_log_add(repair, RepairVisit.Kind.NOTE, _("Resolved: %(resolution)s") % {"resolution": resolution}, by)
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
        repair_log_add(repair, RepairVisit.Kind.NOTE, note, by)
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
    repair_log_add(repair, RepairVisit.Kind.NOTE, _("Cancelled: %(reason)s") % {"reason": reason}, by)
    _emit("repair.cancelled", repair, reason=reason)
    return repair
