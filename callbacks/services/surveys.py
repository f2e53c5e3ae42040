"""Writes for the survey: the homeowner's answers complete the callback, and what they ask for starts
there (a lead, a repair request, a complaint), all in one transaction."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aftercare.services.repairs import repair_request_open
from callbacks.models import (
    Callback,
    Satisfaction,
    SecondaryDemand,
    Survey,
    SurveyDefect,
    SurveyDemand,
    SurveyMaterial,
    SurveyStaff,
)
from callbacks.services.actions import call_completed, locked
from callbacks.services.follow_ups import follow_ups_open
from callbacks.services.plan import callback_settings_get
from complaints.services.intake import complaint_open
from contracts.models import Project, TradeCategory
from renocrm.accounts.staff import require_staff_role
from renocrm.outbox.services import event_emit
from renocrm.tenancy.context import require_current_tenant

ANSWER_FIELDS = (
    "contact_confirmed",
    "contact_update",
    "overall",
    "quality_plumbing_electrical",
    "quality_carpentry",
    "quality_masonry",
    "quality_painting",
    "expectation",
    "designer_rating",
    "project_manager_rating",
    "customer_service_rating",
    "crew_rating",
    "qc_rating",
    # The free text of older surveys; still taken from the API, the forms ask for material rows instead.
    "materials_feedback",
    "suggestions",
    "nps",
)


# The survey -------------------------------------------------------------------------------------------------------


def _clean_answers(answers: dict) -> dict:
    """The answers as the survey row stores them, checked by the row's own field rules (the 5-level scales,
    NPS 0–10, lengths), so a bad one is an error on its field."""
    unknown = set(answers) - set(ANSWER_FIELDS)
    if unknown:
        raise TypeError(f"Unknown survey answers: {', '.join(sorted(unknown))}")
    cleaned = {field: answers.get(field) for field in ANSWER_FIELDS}
    cleaned["contact_confirmed"] = answers.get("contact_confirmed", True) is not False
    for field in ("contact_update", "materials_feedback", "suggestions", "expectation"):
        cleaned[field] = str(cleaned[field] or "").strip()
    if cleaned["contact_confirmed"]:
        cleaned["contact_update"] = ""
    answered = Survey(**cleaned)
    answered.clean_fields(exclude=[f.name for f in Survey._meta.concrete_fields if f.name not in ANSWER_FIELDS])
    return {field: getattr(answered, field) for field in ANSWER_FIELDS}


def _clean_defects(defects) -> list[SurveyDefect]:
    rows = []
    for defect in defects or ():
        trade, kind = defect.get("trade") or "", defect.get("kind") or ""
        note = str(defect.get("note") or "").strip()
        if trade not in TradeCategory.values:
            raise ValidationError({"defects": _("Choose the trade of each defect.")})
        if kind not in SurveyDefect.Kind.values:
            raise ValidationError({"defects": _("Choose what kind of defect it is.")})
        if len(note) > 300:
            raise ValidationError({"defects": _("A defect note has at most 300 characters.")})
        rows.append(SurveyDefect(trade=trade, kind=kind, note=note))
    return rows


# How many materials and furniture one survey may judge.
MAX_MATERIALS = 20


def _clean_materials(materials) -> list[SurveyMaterial]:
    """Material and furniture rows: what it is (required), brand, satisfaction 1–5 (required), comment."""
    rows = []
    for number, row in enumerate(materials or (), start=1):
        item = str(row.get("item") or "").strip()
        brand = str(row.get("brand") or "").strip()
        comment = str(row.get("comment") or "").strip()
        satisfaction = row.get("satisfaction")
        label = {"number": number}
        if not item:
            raise ValidationError({"materials": _("Material %(number)s: say which material or furniture.") % label})
        if len(item) > 100 or len(brand) > 100:
            raise ValidationError(
                {"materials": _("Material %(number)s: a name or brand has at most 100 characters.") % label}
            )
        if len(comment) > 500:
            raise ValidationError(
                {"materials": _("Material %(number)s: a comment has at most 500 characters.") % label}
            )
        try:
            satisfaction = int(satisfaction)
        except (TypeError, ValueError):
            satisfaction = None
        if satisfaction not in Satisfaction.values:
            raise ValidationError(
                {"materials": _("Material %(number)s: rate it from 1 (very dissatisfied) to 5.") % label}
            )
        rows.append(SurveyMaterial(item=item, brand=brand, satisfaction=satisfaction, comment=comment, position=number))
    if len(rows) > MAX_MATERIALS:
        raise ValidationError({"materials": _("At most %(count)s materials per survey.") % {"count": MAX_MATERIALS}})
    return rows


def _clean_demands(demands, note: str) -> list[str]:
    kinds = []
    for kind in demands or ():
        if kind not in SecondaryDemand.values:
            raise ValidationError({"demands": _("Choose among partial renovation, furniture and soft furnishing.")})
        if kind not in kinds:
            kinds.append(kind)
    if note.strip() and not kinds:
        raise ValidationError({"demands": _("Tick what the homeowner is interested in; the note goes with it.")})
    return kinds


def _sales_owner(project: Project):
    """The customer manager who won the project, if still an active sales member: they know the family."""
    from leads.selectors import CUSTOMER_MANAGER_ROLES

    user = project.lead.assigned_to if project.lead_id else None
    if user is None:
        return None
    try:
        require_staff_role(user, roles=CUSTOMER_MANAGER_ROLES, field="assigned_to")
    except ValidationError:
        return None
    return user


def _start_lead(*, callback: Callback, kinds: list[str], note: str, by):
    from leads.models import Lead
    from leads.services.pipeline import lead_create

    project = Project.objects.select_related("lead__assigned_to", "property").get(pk=callback.project_id)
    with translation.override(require_current_tenant().language):
        needs = _("Secondary demand from the callback “%(step)s”: %(kinds)s.") % {
            "step": callback.name,
            "kinds": ", ".join(str(SecondaryDemand(kind).label) for kind in kinds),
        }
    if note.strip():
        needs = f"{needs}\n{note.strip()}"
    lead, _linked = lead_create(
        channel=Lead.Channel.AFTERCARE,
        customer=callback.customer,
        property=project.property,
        core_needs=needs,
        assigned_to=_sales_owner(project),
        by=by,
    )
    return lead


def _nested(key: str, error: ValidationError) -> ValidationError:
    """Another part's refusal, shown on the survey's section it came from."""
    return ValidationError({key: error.messages})


@transaction.atomic
def survey_submit(
    *,
    callback: Callback,
    via: str,
    by=None,
    defects: list[dict] = (),
    materials: list[dict] = (),
    demands: list[str] = (),
    demand_note: str = "",
    repair: dict | None = None,
    grievance: dict | None = None,
    **answers,
) -> Survey:
    """Record the homeowner's answers and complete the callback. A secondary demand becomes one new lead
    for sales; a reported defect may become a repair request and a grievance a complaint — each linked on
    the survey. Low scores, a result below expectations, a suggestion and a poorly rated material open a
    follow-up for the department concerned (``follow_ups``). All of it or none of it."""
    callback = locked(callback)
    if callback.status == Callback.Status.COMPLETED or Survey.objects.filter(callback=callback).exists():
        raise ValidationError(_("This callback's survey is already in."), code="answered")
    if callback.status == Callback.Status.CANCELLED:
        raise ValidationError(_("This callback was cancelled."))
    if via not in Survey.Via.values:
        raise ValidationError({"via": _("Say how the survey was answered.")})
    cleaned = _clean_answers(answers)
    defect_rows = _clean_defects(defects)
    material_rows = _clean_materials(materials)
    kinds = _clean_demands(demands, demand_note or "")
    worksite = callback.worksite
    now = timezone.now()

    survey = Survey(
        callback=callback,
        via=via,
        submitted_at=now,
        submitted_by=by,
        **cleaned,
        **{field: getattr(worksite, field) for field in SurveyStaff.values},
    )
    if kinds:
        survey.lead = _start_lead(callback=callback, kinds=kinds, note=demand_note or "", by=by)
    if repair:
        try:
            survey.repair_request = repair_request_open(
                project=callback.project,
                area=repair.get("area") or "",
                trade=repair.get("trade") or "",
                description=repair.get("description") or "",
                source="callback",
                created_by=by,
            )
        except ValidationError as error:
            raise _nested("repair", error) from error
    if grievance:
        try:
            survey.complaint = complaint_open(
                customer=callback.customer,
                channel="callback",
                category=grievance.get("category") or "",
                description=grievance.get("description") or "",
                project=callback.project,
                opened_by=by,
            )
        except ValidationError as error:
            raise _nested("grievance", error) from error
    survey.save()
    for row in defect_rows:
        row.survey = survey
    SurveyDefect.objects.bulk_create(defect_rows)
    for row in material_rows:
        row.survey = survey
    SurveyMaterial.objects.bulk_create(material_rows)
    SurveyDemand.objects.bulk_create([SurveyDemand(survey=survey, kind=kind) for kind in kinds])

    if not cleaned["contact_confirmed"] and cleaned["contact_update"]:
        # The old mobile stays (it is the customer's key); the new details go with the other contacts.
        customer = callback.customer
        customer.refresh_from_db(fields=["other_contacts"])
        with translation.override(require_current_tenant().language):
            line = _("%(day)s, callback survey: %(contact)s") % {
                "day": timezone.localdate(now, require_current_tenant().zone).isoformat(),
                "contact": cleaned["contact_update"],
            }
        customer.other_contacts = f"{customer.other_contacts}\n{line}".strip()
        customer.save(update_fields=["other_contacts", "updated_at"])

    if via == Survey.Via.STAFF:
        call_completed(callback, at=now, by=by)
    callback.status, callback.completed_at, callback.completed_by = Callback.Status.COMPLETED, now, by
    callback.next_attempt_at = None
    callback.save(update_fields=["status", "completed_at", "completed_by", "next_attempt_at"])
    event_emit(
        event_type="survey.submitted",
        payload={"id": survey.pk, "callback_id": callback.pk, "overall": survey.overall, "nps": survey.nps},
    )
    event_emit(
        event_type="callback.completed",
        payload={
            "id": callback.pk,
            "project_id": callback.project_id,
            "customer_id": callback.customer_id,
            "step": callback.step_id,
            "method": callback.method,
        },
    )
    follow_ups_open(survey=survey, materials=material_rows, settings=callback_settings_get())
    return survey
