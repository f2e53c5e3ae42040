"""Writes for handover (竣工验收与交付): the firm's acceptance checklist, the item-by-item acceptance,
rectification items with deadlines and re-check, the handover documents and completion. One transaction
each."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, ngettext_lazy

from contracts.models import Contract, Instalment, Project
from contracts.services.payments import instalments_fall_due
from renocrm.accounts.roles import Role
from renocrm.accounts.staff import require_staff_duty, require_staff_role
from renocrm.outbox.services import event_emit, notify_staff
from renocrm.sweeps.services import Sweep
from renocrm.tenancy.context import require_current_tenant
from renocrm.tenancy.defaults import firm_copy_get
from renocrm.tenancy.time import firm_today
from renocrm.uploads import IMAGE, PDF, clean_upload
from worksites.models import (
    AcceptanceItem,
    AcceptanceItemTemplate,
    Handover,
    HandoverDocument,
    RectificationItem,
    Worksite,
)
from worksites.selectors.gates import final_acceptance_date, handover_gate_blockers
from worksites.selectors.handover import handover_documents_missing

# The checklist a firm starts with: (area, check). Firms edit their own copy.
DEFAULT_CHECKLIST = [
    (gettext_lazy("Walls & ceilings"), gettext_lazy("Walls and ceilings flat and plumb; no cracks or hollow spots")),
    (gettext_lazy("Walls & ceilings"), gettext_lazy("Corners straight and square; skirting and cornices tight")),
    (gettext_lazy("Floors & tiling"), gettext_lazy("Tiles level, joints even, no hollow sound when tapped")),
    (gettext_lazy("Floors & tiling"), gettext_lazy("Wooden floor flat and quiet underfoot; expansion gaps covered")),
    (
        gettext_lazy("Doors & windows"),
        gettext_lazy("Doors and windows open and close smoothly; locks and handles work"),
    ),
    (gettext_lazy("Doors & windows"), gettext_lazy("Door and window seals tight: no draughts, gaps or water marks")),
    (gettext_lazy("Plumbing"), gettext_lazy("Supply pipes pressure-tested: no pressure drop, no leaks")),
    (gettext_lazy("Plumbing"), gettext_lazy("Drains and floor drains run freely; traps sealed, no odour")),
    (gettext_lazy("Electrical"), gettext_lazy("Every socket and switch works; polarity and earth checked")),
    (
        gettext_lazy("Electrical"),
        gettext_lazy("Breakers labelled by circuit; the residual-current device trips on test"),
    ),
    (
        gettext_lazy("Waterproofing"),
        gettext_lazy("Kitchen and bathroom closed-water test passed; no damp below or next door"),
    ),
    (
        gettext_lazy("Kitchen & bathroom"),
        gettext_lazy("Sanitary ware, taps and shower fixed firmly without leaks; floors fall to the drain"),
    ),
    (
        gettext_lazy("Carpentry & cabinets"),
        gettext_lazy("Cabinets and wardrobes square; doors aligned; hinges and drawers run smoothly"),
    ),
    (gettext_lazy("Painting"), gettext_lazy("Paint even in colour; no brush marks, runs or patches")),
    (gettext_lazy("Installation"), gettext_lazy("Lights, fixtures and appliances installed firmly and working")),
    (gettext_lazy("Cleaning"), gettext_lazy("Site cleaned: no dust, debris, paint spots or protective film left")),
]

# Who may own a rectification item: the people who can also mark it fixed.
RECTIFICATION_OWNER_ROLES = {Role.PROJECT_MANAGER, Role.DESIGNER, Role.QC, Role.ADMIN}
RECHECK_DUTY = "rectifications.recheck"

DOCUMENT_TYPES = frozenset({PDF, IMAGE})


# The firm's checklist ----------------------------------------------------------------------------------------


def acceptance_template_get() -> list[AcceptanceItemTemplate]:
    """The firm's checklist, created from the default the first time it is needed."""
    return firm_copy_get(
        AcceptanceItemTemplate,
        default=lambda: [
            AcceptanceItemTemplate(position=n, area=str(area), item=str(item))
            for n, (area, item) in enumerate(DEFAULT_CHECKLIST, start=1)
        ],
    )


@transaction.atomic
def acceptance_template_replace(*, rows: list[dict]) -> list[AcceptanceItemTemplate]:
    """Replace the firm's checklist; handovers already started keep their items."""
    if not rows:
        raise ValidationError(_("A checklist needs at least one check."))
    cleaned = []
    for row in rows:
        area, item = str(row.get("area", "")).strip(), str(row.get("item", "")).strip()
        if not area:
            raise ValidationError({"area": _("Name the area of each check.")})
        if not item:
            raise ValidationError({"item": _("Say what each check looks at.")})
        if len(area) > 50:
            raise ValidationError({"area": _("An area has at most 50 characters.")})
        if len(item) > 300:
            raise ValidationError({"item": _("A check has at most 300 characters.")})
        cleaned.append((area, item))
    AcceptanceItemTemplate.objects.all().delete()
    return AcceptanceItemTemplate.objects.bulk_create(
        [AcceptanceItemTemplate(position=n, area=area, item=item) for n, (area, item) in enumerate(cleaned, start=1)]
    )


# Starting the acceptance -------------------------------------------------------------------------------------


@transaction.atomic
def handover_start(*, worksite: Worksite, started_by) -> Handover:
    """Start the completion acceptance of a worksite with the firm's checklist. A worksite has one
    handover (a unique key): a second call returns it."""
    existing = Handover.objects.filter(worksite=worksite).first()
    if existing is not None:
        return existing
    templates = acceptance_template_get()
    try:
        with transaction.atomic():
            handover = Handover.objects.create(worksite=worksite, started_by=started_by)
    except IntegrityError:  # started by someone else a moment ago
        return Handover.objects.get(worksite=worksite)
    AcceptanceItem.objects.bulk_create(
        [AcceptanceItem(handover=handover, position=t.position, area=t.area, item=t.item) for t in templates]
    )
    return handover


def _open_handover(handover_id: int) -> Handover:
    """The handover, locked so a check and the completion never interleave; refused once handed over."""
    handover = Handover.objects.select_for_update().get(pk=handover_id)
    if handover.status == Handover.Status.COMPLETED:
        raise ValidationError(_("This worksite is already handed over; its acceptance can no longer change."))
    return handover


# Rectification items -----------------------------------------------------------------------------------------


def _check_deadline(deadline, field: str = "deadline") -> None:
    if deadline is None:
        raise ValidationError({field: _("Set a deadline for the rectification.")})
    if deadline < firm_today():
        raise ValidationError({field: _("The deadline is in the past.")})


def _new_rectification_item(*, handover, description, owner, deadline, acceptance_item=None) -> RectificationItem:
    errors = {}
    if not (description or "").strip():
        errors["description"] = _("Say what must be put right.")
    if owner is None:
        errors["owner"] = _("Choose who puts it right.")
    if deadline is None:
        errors["deadline"] = _("Set a deadline for the rectification.")
    if errors:
        raise ValidationError(errors)
    require_staff_role(owner, roles=RECTIFICATION_OWNER_ROLES, field="owner")
    _check_deadline(deadline)
    if acceptance_item is not None and acceptance_item.handover_id != handover.pk:
        raise ValidationError({"acceptance_item": _("This check belongs to another handover.")})
    return RectificationItem.objects.create(
        handover=handover,
        acceptance_item=acceptance_item,
        description=description.strip(),
        owner=owner,
        deadline=deadline,
    )


@transaction.atomic
def rectification_item_create(
    *, handover: Handover, description: str, owner, deadline: date, acceptance_item: AcceptanceItem | None = None
) -> RectificationItem:
    handover = _open_handover(handover.pk)
    return _new_rectification_item(
        handover=handover, description=description, owner=owner, deadline=deadline, acceptance_item=acceptance_item
    )


def _locked_item(item: RectificationItem) -> RectificationItem:
    _open_handover(item.handover_id)
    return (
        RectificationItem.objects.select_for_update(of=("self",)).select_related("handover__worksite").get(pk=item.pk)
    )


@transaction.atomic
def rectification_item_mark_fixed(*, item: RectificationItem, by=None) -> RectificationItem:
    """The owner reports the item put right; it now waits for the re-check."""
    item = _locked_item(item)
    if item.status != RectificationItem.Status.OPEN:
        raise ValidationError(_("Only an open rectification item can be marked fixed."))
    item.status, item.fixed_at, item.fixed_by = RectificationItem.Status.FIXED, timezone.now(), by
    item.save(update_fields=["status", "fixed_at", "fixed_by"])
    return item


def _check_rechecker(item: RectificationItem, user) -> None:
    """QC re-checks (a firm admin may stand in, and a role the firm's duty map gives it), never whoever fixed
    the item, owns it or runs the site."""
    try:
        require_staff_duty(user, duty=RECHECK_DUTY, field="rechecked_by")
    except ValidationError:
        raise ValidationError({"rechecked_by": _("A QC inspector re-checks rectification items.")}) from None
    if user.pk in (item.fixed_by_id, item.owner_id, item.handover.worksite.project_manager_id):
        raise ValidationError(
            {"rechecked_by": _("Someone who fixed, owns or runs this work cannot re-check it; ask QC.")}
        )


@transaction.atomic
def rectification_item_recheck(
    *, item: RectificationItem, passed: bool, rechecked_by, note: str = "", new_deadline: date | None = None
) -> RectificationItem:
    """Re-check a fixed item. Passed: it closes, and the failed check it came from passes once none of its
    items is still outstanding. Failed: it reopens with a new deadline, and the overdue sweep may raise it
    again for that deadline."""
    item = _locked_item(item)
    if item.status != RectificationItem.Status.FIXED:
        raise ValidationError(_("Only an item marked fixed can be re-checked."))
    _check_rechecker(item, rechecked_by)
    now = timezone.now()
    item.rechecked_at, item.rechecked_by, item.recheck_note = now, rechecked_by, note.strip()
    if passed:
        item.status = RectificationItem.Status.CLOSED
        item.save(update_fields=["status", "rechecked_at", "rechecked_by", "recheck_note"])
        check = item.acceptance_item
        if (
            check is not None
            and check.result == AcceptanceItem.Result.FAILED
            and not check.rectification_items.exclude(status=RectificationItem.Status.CLOSED).exists()
        ):
            check.result, check.checked_at, check.checked_by = AcceptanceItem.Result.PASSED, now, rechecked_by
            check.save(update_fields=["result", "checked_at", "checked_by"])
        return item
    _check_deadline(new_deadline, field="new_deadline")
    item.status, item.deadline, item.fixed_at = RectificationItem.Status.OPEN, new_deadline, None
    item.overdue_raised_on = None
    item.save(
        update_fields=[
            "status",
            "deadline",
            "fixed_at",
            "overdue_raised_on",
            "rechecked_at",
            "rechecked_by",
            "recheck_note",
        ]
    )
    return item


# Item-by-item acceptance ----------------------------------------------------------------------------------------


@transaction.atomic
def acceptance_item_check(
    *, item: AcceptanceItem, passed: bool, checked_by, note: str = "", rectification: dict | None = None
) -> AcceptanceItem:
    """Record one check. A failed check must say what to put right, who and by when: its rectification
    item is created with it, or neither is recorded."""
    handover = _open_handover(item.handover_id)
    item = AcceptanceItem.objects.select_for_update().get(pk=item.pk)
    if passed and item.rectification_items.exclude(status=RectificationItem.Status.CLOSED).exists():
        raise ValidationError(_("This check passes when its rectification items are re-checked and closed."))
    item.result = AcceptanceItem.Result.PASSED if passed else AcceptanceItem.Result.FAILED
    item.note, item.checked_at, item.checked_by = note.strip(), timezone.now(), checked_by
    item.save(update_fields=["result", "note", "checked_at", "checked_by"])
    if not passed:
        if rectification is None:
            raise ValidationError(
                {"rectification": _("A failed check needs a rectification item: what to put right, who and by when.")}
            )
        _new_rectification_item(
            handover=handover,
            acceptance_item=item,
            description=rectification.get("description", ""),
            owner=rectification.get("owner"),
            deadline=rectification.get("deadline"),
        )
    return item


# Documents ----------------------------------------------------------------------------------------------------


@transaction.atomic
def handover_document_add(*, handover: Handover, kind: str, upload, uploaded_by, title: str = "") -> HandoverDocument:
    """Add a document the homeowner receives: a PDF or a photo, checked by its bytes."""
    if kind not in HandoverDocument.Kind.values:
        raise ValidationError({"kind": _("Choose which document this is.")})
    if upload is None:
        raise ValidationError({"file": _("Choose a file.")})
    try:
        cleaned = clean_upload(upload, accept=DOCUMENT_TYPES)
    except ValidationError as error:
        raise ValidationError({"file": error.messages}) from error
    return HandoverDocument.objects.create(
        handover=handover,
        kind=kind,
        title=title.strip()[:200],
        file=cleaned.content,
        content_type=cleaned.content_type,
        size=cleaned.size,
        original_name=cleaned.original_name,
        uploaded_by=uploaded_by,
    )


# Completion ----------------------------------------------------------------------------------------------------


# Why a handover cannot complete yet: the count, and the first few by name.
NOT_DONE = ngettext_lazy(
    "%(count)d check is not done yet: %(items)s.", "%(count)d checks are not done yet: %(items)s.", "count"
)
NOT_RECHECKED = ngettext_lazy(
    "%(count)d check failed and has not passed its re-check: %(items)s.",
    "%(count)d checks failed and have not passed their re-check: %(items)s.",
    "count",
)
NOT_CLOSED = ngettext_lazy(
    "%(count)d rectification item is not closed: %(items)s.",
    "%(count)d rectification items are not closed: %(items)s.",
    "count",
)


def _reason(message, names: list[str], code: str, limit: int = 5) -> ValidationError:
    shown = "; ".join(names[:limit])
    if len(names) > limit:
        shown = _("%(names)s and %(count)d more") % {"names": shown, "count": len(names) - limit}
    return ValidationError(message % {"count": len(names), "items": shown}, code=code)


def handover_blockers(*, handover: Handover) -> list[ValidationError]:
    """Every reason the handover cannot complete yet, each something staff can act on (an empty list
    when it can)."""
    Result = AcceptanceItem.Result
    checks = {Result.PENDING: [], Result.FAILED: []}
    for item in handover.items.exclude(result=Result.PASSED).order_by("position"):
        checks[item.result].append(f"{item.area} — {item.item}")
    outstanding = handover.rectification_items.exclude(status=RectificationItem.Status.CLOSED)
    groups = [
        (NOT_DONE, checks[Result.PENDING], "unchecked"),
        (NOT_RECHECKED, checks[Result.FAILED], "failed"),
        (NOT_CLOSED, [str(i) for i in outstanding.order_by("deadline", "id")], "rectification_open"),
    ]
    reasons = handover_gate_blockers(handover.worksite)
    reasons += [_reason(message, names, code) for message, names, code in groups if names]
    missing = handover_documents_missing(handover=handover)
    if missing:
        reasons.append(
            ValidationError(
                _("Documents missing: %(kinds)s.") % {"kinds": ", ".join(str(kind.label) for kind in missing)},
                code="documents_missing",
            )
        )
    return reasons


@transaction.atomic
def handover_complete(*, handover: Handover, completed_by, on: date | None = None) -> Handover:
    """Hand the worksite over (竣工交付). Refused, with every reason at once, while a phase is unfinished, a
    required inspection (the final acceptance included) has not passed, a check has not passed, a
    rectification item is not closed or a required document is missing. The handover date is the day the
    project keeps (by default the day the final acceptance passed, never before it); the warranties and the
    callback plan count from the acceptance date (``accepted_on`` in ``project.handed_over``, the handover
    date where a firm admin lifted the gate without one)."""
    handover = Handover.objects.select_for_update().select_related("worksite").get(pk=handover.pk)
    if handover.status == Handover.Status.COMPLETED:
        raise ValidationError(_("This worksite is already handed over."), code="completed")
    today = firm_today()
    accepted_on = final_acceptance_date(handover.worksite_id)
    day = on or accepted_on or today
    if day > today:
        raise ValidationError({"on": _("The handover date cannot be in the future.")})
    if accepted_on and day < accepted_on:
        raise ValidationError(
            {"on": _("The handover cannot be before the final acceptance (%(day)s).") % {"day": accepted_on}}
        )
    started = timezone.localtime(handover.started_at, require_current_tenant().zone).date()
    if day < started:
        raise ValidationError({"on": _("The handover date cannot be before the acceptance started.")})
    reasons = handover_blockers(handover=handover)
    if reasons:
        raise ValidationError(reasons)

    handover.status, handover.handed_over_on = Handover.Status.COMPLETED, day
    handover.completed_at, handover.completed_by = timezone.now(), completed_by
    handover.save(update_fields=["status", "handed_over_on", "completed_at", "completed_by"])
    worksite = Worksite.objects.select_for_update().get(pk=handover.worksite_id)
    worksite.status = Worksite.Status.HANDED_OVER
    worksite.save(update_fields=["status"])
    project = Project.objects.select_for_update().get(pk=worksite.project_id)
    project.status, project.handed_over_on = Project.Status.HANDED_OVER, day
    project.save(update_fields=["status", "handed_over_on"])
    contract = Contract.objects.get(pk=worksite.contract_id)
    instalments_fall_due(contract=contract, trigger=Instalment.Trigger.ACCEPTANCE, on=day)
    event_emit(
        event_type="project.handed_over",
        payload={
            "project_id": project.pk,
            "worksite_id": worksite.pk,
            "contract_id": contract.pk,
            "customer_id": project.customer_id,
            "handed_over_on": day.isoformat(),
            "accepted_on": accepted_on.isoformat() if accepted_on else None,
        },
    )
    return handover


# The overdue sweep ---------------------------------------------------------------------------------------------

# The sweeper's name in renocrm.sweeps (its failures and backoff).
OVERDUE_RECTIFICATION_SWEEP = "overdue-rectifications"


@transaction.atomic
def rectification_items_raise_overdue(*, today: date | None = None, sweep: Sweep | None = None) -> int:
    """Tell the owner and the worksite's project manager about each open rectification item past its
    deadline (in the firm's time zone), once per deadline: a re-check that fails sets a new deadline,
    which may be raised again. Returns how many items were raised. Safe to run twice: raised items are
    marked, and each message has an idempotency key. One bounded batch, marked in one update; should the
    batch fail, each item is tried on its own, and the one that fails is recorded and retried later
    (``renocrm.sweeps``) without holding up the others."""
    today = today or firm_today()
    sweep = sweep or Sweep(OVERDUE_RECTIFICATION_SWEEP)
    due = (
        RectificationItem.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("owner", "handover__worksite__project", "handover__worksite__project_manager")
        .filter(status=RectificationItem.Status.OPEN, deadline__lt=today)
        .filter(Q(overdue_raised_on__isnull=True) | Q(overdue_raised_on__lt=F("deadline")))
        .order_by("deadline", "id")
    )
    return sweep.run_together(list(sweep.batch(due)), _rectification_items_raise, today=today)


def _rectification_items_raise(items: list[RectificationItem], *, today: date) -> int:
    for item in items:
        _rectification_item_tell(item, today=today)
    # One update for the batch, however many.
    RectificationItem.objects.filter(pk__in=[item.pk for item in items]).update(overdue_raised_on=today)
    return len(items)


def _rectification_item_tell(item: RectificationItem, *, today: date) -> None:
    tenant = require_current_tenant()
    worksite = item.handover.worksite
    recipients = {item.owner.pk: item.owner}
    if worksite.project_manager is not None:
        recipients.setdefault(worksite.project_manager.pk, worksite.project_manager)
    context = {
        "worksite": worksite.project.name,
        "description": item.description,
        "deadline": item.deadline.isoformat(),
        "owner": str(item.owner),
        "days": (today - item.deadline).days,
    }
    with translation.override(tenant.language):
        subject = _("Rectification item overdue: %(worksite)s") % context
        body = ngettext(
            "The rectification item “%(description)s” at %(worksite)s was due on %(deadline)s and is still "
            "open (%(days)d day late). Owner: %(owner)s. — %(firm)s",
            "The rectification item “%(description)s” at %(worksite)s was due on %(deadline)s and is still "
            "open (%(days)d days late). Owner: %(owner)s. — %(firm)s",
            context["days"],
        ) % {**context, "firm": tenant.name}
        for user_id, user in recipients.items():
            notify_staff(
                user,
                subject=subject,
                body=body,
                idempotency_key=f"rectification-overdue:{item.pk}:{item.deadline.isoformat()}:{user_id}",
                link=reverse("worksites:handover", args=[worksite.pk]),
            )
