"""The callbacks section of a homeowner's personal data (see renocrm/privacy/registry.py).

Erased: what the homeowner said in their own words in surveys (new contact details, materials and furniture
feedback and comments, suggestions, notes on defects); the customer's name, mobile and addresses in the
agents' notes and in the outcomes of feedback follow-ups.
Callbacks not yet made are cancelled: nobody may call an erased person.
Kept: every score, NPS answer, expectation, defect (trade and kind), material rated (what and its brand),
secondary demand, the staff rated, the callbacks made with their dates and outcomes, and the follow-ups with
their departments, deadlines and who closed them — the satisfaction reports and rankings stay exactly as
they were.
"""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _

from renocrm.privacy.registry import SCRUB, anonymise, rows
from renocrm.tenancy.context import require_current_tenant

from .models import Callback, CallbackAttempt, FeedbackFollowUp, Survey, SurveyDefect, SurveyDemand, SurveyMaterial

NOT_MADE = (Callback.Status.SCHEDULED, Callback.Status.OPEN, Callback.Status.RETRY)
SCORES = (
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
    "nps",
)


def export(customer) -> dict:
    return {
        "callbacks": rows(
            Callback.objects.filter(customer=customer),
            "id",
            "project_id",
            "name",
            "due_on",
            "method",
            "status",
            "attempts",
            "appointment_at",
            "completed_at",
            "closed_reason",
        ),
        "callback_attempts": rows(
            CallbackAttempt.objects.filter(callback__customer=customer),
            "callback_id",
            "method",
            "outcome",
            "note",
            "at",
        ),
        "surveys": rows(
            Survey.objects.filter(callback__customer=customer),
            "id",
            "callback_id",
            "via",
            "contact_confirmed",
            "contact_update",
            *SCORES,
            "materials_feedback",
            "suggestions",
            "submitted_at",
        ),
        "survey_defects": rows(
            SurveyDefect.objects.filter(survey__callback__customer=customer), "survey_id", "trade", "kind", "note"
        ),
        "survey_materials": rows(
            SurveyMaterial.objects.filter(survey__callback__customer=customer),
            "survey_id",
            "item",
            "brand",
            "satisfaction",
            "comment",
        ),
        "survey_demands": rows(SurveyDemand.objects.filter(survey__callback__customer=customer), "survey_id", "kind"),
        "feedback_follow_ups": rows(
            FeedbackFollowUp.objects.filter(callback__customer=customer),
            "id",
            "survey_id",
            "department",
            "triggers",
            "status",
            "opened_at",
            "due_on",
            "outcome",
            "closed_at",
        ),
    }


def erase(customer) -> None:
    with translation.override(require_current_tenant().language):
        reason = _("The customer's personal data was erased.")
    # Calling off is not personal data: the status and reason stay visible (and unredacted) in the trail.
    Callback.objects.filter(customer=customer, status__in=NOT_MADE).update(
        status=Callback.Status.CANCELLED, closed_reason=reason, next_attempt_at=None
    )
    anonymise(Callback.objects.filter(customer=customer).exclude(closed_reason=reason), customer, closed_reason=SCRUB)
    anonymise(CallbackAttempt.objects.filter(callback__customer=customer), customer, note=SCRUB)
    anonymise(
        Survey.objects.filter(callback__customer=customer),
        customer,
        contact_update="",
        materials_feedback="",
        suggestions="",
    )
    anonymise(SurveyDefect.objects.filter(survey__callback__customer=customer), customer, note="")
    anonymise(SurveyMaterial.objects.filter(survey__callback__customer=customer), customer, comment="")
    anonymise(FeedbackFollowUp.objects.filter(callback__customer=customer), customer, outcome=SCRUB)
