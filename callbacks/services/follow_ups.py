"""Writes for feedback follow-ups (对所反映意见处理后按照公司规定及时通知相关部门；追踪回访处理结果): a survey's
low scores, an unsatisfied verdict and written suggestions go to the head of the department they are about,
with a deadline in working days; the head closes the follow-up with what was done, and the agent who took
the survey hears the outcome. A follow-up left open past its deadline is raised once by a beat sweep.

Who heads a department comes from the firm's callback settings; with nobody named (or someone who has left),
the firm's first active admin. Every message has an idempotency key naming the follow-up.
"""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from callbacks.models import (
    DEPARTMENT_HEADS,
    CallbackSettings,
    Department,
    FeedbackFollowUp,
    Survey,
    SurveyMaterial,
)
from renocrm.accounts.roles import Role
from renocrm.accounts.staff import firm_admins, require_staff_role
from renocrm.calendar import add_working_days
from renocrm.outbox.services import event_emit, notify_staff
from renocrm.sweeps.services import Sweep
from renocrm.tenancy.context import require_current_tenant
from renocrm.tenancy.time import firm_today

# The sweeper's name in renocrm.sweeps (its failures and backoff).
OVERDUE_SWEEP = "feedback-follow-up-overdue"
OUTCOME_LENGTH = 2000

D = Department
# Which department answers for each scored question of the survey.
QUESTION_DEPARTMENT = {
    "designer_rating": D.DESIGN,
    "project_manager_rating": D.CONSTRUCTION,
    "crew_rating": D.CONSTRUCTION,
    "quality_plumbing_electrical": D.CONSTRUCTION,
    "quality_carpentry": D.CONSTRUCTION,
    "quality_masonry": D.CONSTRUCTION,
    "quality_painting": D.CONSTRUCTION,
    "qc_rating": D.QC,
    "customer_service_rating": D.SERVICE,
    # The verdict on the whole job: customer service owns the relationship and passes it on.
    "overall": D.SERVICE,
}
# Materials and furniture are bought and fitted by construction (purchasing sits with it).
MATERIAL_DEPARTMENT = D.CONSTRUCTION
# Suggestions and a result below expectations: customer service, like the overall verdict.
VERDICT_DEPARTMENT = D.SERVICE

OPENED_HEADLINE = gettext_noop("Feedback for your department to follow up")
OVERDUE_HEADLINE = gettext_noop("A feedback follow-up is past its deadline")


# What opens a follow-up ---------------------------------------------------------------------------------------


def feedback_triggers(survey: Survey, materials: list[SurveyMaterial], *, threshold: int) -> dict[str, list[dict]]:
    """The answers that call for a follow-up, by department, in the order the survey asks them: a score at
    or below ``threshold``, a result below expectations, a written suggestion, a material rated that low."""
    found: dict[str, list[dict]] = {}
    for question, department in QUESTION_DEPARTMENT.items():
        answer = getattr(survey, question)
        if answer is not None and answer <= threshold:
            found.setdefault(department, []).append({"question": question, "answer": answer})
    if survey.expectation == Survey.Expectation.BELOW:
        found.setdefault(VERDICT_DEPARTMENT, []).append({"question": "expectation", "answer": survey.expectation})
    if survey.suggestions.strip():
        found.setdefault(VERDICT_DEPARTMENT, []).append({"question": "suggestions", "answer": None})
    for row in materials:
        if row.satisfaction <= threshold:
            found.setdefault(MATERIAL_DEPARTMENT, []).append(
                {"question": "material", "answer": row.satisfaction, "material": row.pk}
            )
    return {department: found[department] for department in D.values if department in found}


def department_head(settings: CallbackSettings, department: str):
    """Who follows up ``department``'s feedback: its head if named and still an active member, else the firm's
    first active admin (None in a firm with no admin left)."""
    head = getattr(settings, DEPARTMENT_HEADS[department])
    if head is not None:
        try:
            require_staff_role(head, field=DEPARTMENT_HEADS[department])
        except ValidationError:
            head = None
    return head or firm_admins().first()


def follow_ups_open(*, survey: Survey, materials: list[SurveyMaterial], settings: CallbackSettings) -> list:
    """Open one follow-up per department the survey's answers call for, each with its deadline, and tell
    each head. Runs inside ``survey_submit``'s transaction: a survey that rolls back opens nothing."""
    triggers = feedback_triggers(survey, materials, threshold=settings.follow_up_threshold)
    if not triggers:
        return []
    now = timezone.now()
    due_on = add_working_days(firm_today(), settings.follow_up_days)
    opened = []
    for department, answers in triggers.items():
        follow_up = FeedbackFollowUp.objects.create(
            survey=survey,
            callback=survey.callback,
            department=department,
            triggers=answers,
            owner=department_head(settings, department),
            opened_at=now,
            due_on=due_on,
        )
        _tell(follow_up, follow_up.owner, key=f"feedback-follow-up:{follow_up.pk}:opened", headline=OPENED_HEADLINE)
        event_emit(
            event_type="feedback.follow_up_opened",
            payload={
                "id": follow_up.pk,
                "survey_id": survey.pk,
                "callback_id": survey.callback_id,
                "project_id": survey.callback.project_id,
                "department": department,
                "owner_id": follow_up.owner_id,
                "due_on": due_on.isoformat(),
                "questions": [answer["question"] for answer in answers],
            },
        )
        opened.append(follow_up)
    return opened


# Closing ------------------------------------------------------------------------------------------------------


def _locked(follow_up: FeedbackFollowUp) -> FeedbackFollowUp:
    return (
        FeedbackFollowUp.objects.select_for_update(of=("self",))
        .select_related("callback__customer", "callback__project", "callback__assigned_to", "survey__submitted_by")
        .get(pk=follow_up.pk)
    )


def _require_may_close(follow_up: FeedbackFollowUp, by) -> None:
    """The owner closes their follow-up; a firm admin may close anyone's (the owner left, or is away)."""
    if by.pk == follow_up.owner_id:
        require_staff_role(by, field="outcome")
        return
    try:
        require_staff_role(by, roles={Role.ADMIN}, field="outcome")
    except ValidationError:
        raise ValidationError(_("Only the follow-up's owner or a firm admin can close it."), code="not_owner") from None


def survey_agent(follow_up: FeedbackFollowUp):
    """The agent who took the survey: who filled it in, or for a homeowner's own answers the callback's agent."""
    return follow_up.survey.submitted_by or follow_up.callback.assigned_to


@transaction.atomic
def follow_up_close(*, follow_up: FeedbackFollowUp, outcome: str, by=None) -> FeedbackFollowUp:
    """Close the follow-up with what was done about it (required). The agent who took the survey is told the
    outcome, to pass it on to the homeowner at the next callback."""
    follow_up = _locked(follow_up)
    if follow_up.status == FeedbackFollowUp.Status.CLOSED:
        raise ValidationError(_("This follow-up is already closed."), code="closed")
    if by is not None:  # who may close first: nobody else is told what the outcome should have been
        _require_may_close(follow_up, by)
    outcome = (outcome or "").strip()
    if not outcome:
        raise ValidationError({"outcome": _("Say what was done about it.")})
    if len(outcome) > OUTCOME_LENGTH:
        raise ValidationError({"outcome": _("At most %(count)s characters.") % {"count": OUTCOME_LENGTH}})
    now = timezone.now()
    follow_up.status, follow_up.outcome = FeedbackFollowUp.Status.CLOSED, outcome
    follow_up.closed_at, follow_up.closed_by = now, by
    follow_up.save(update_fields=["status", "outcome", "closed_at", "closed_by"])
    agent = survey_agent(follow_up)
    if agent is not None and agent != by:
        _tell_outcome(follow_up, agent)
    event_emit(
        event_type="feedback.follow_up_closed",
        payload={
            "id": follow_up.pk,
            "survey_id": follow_up.survey_id,
            "callback_id": follow_up.callback_id,
            "department": follow_up.department,
            "closed_by_id": by.pk if by is not None else None,
            "late": firm_today() > follow_up.due_on,
        },
    )
    return follow_up


# The overdue sweep --------------------------------------------------------------------------------------------


@transaction.atomic
def follow_ups_raise_overdue(*, today: date | None = None, sweep: Sweep | None = None) -> int:
    """Raise every open follow-up whose deadline has passed (the firm's today is later than it): its owner
    and the firm's first admin are told once, and the follow-up marked. One bounded batch, each follow-up in
    its own savepoint: one that fails is recorded and retried after its backoff while the others go through.
    Returns how many were raised. Safe to run twice and concurrently (rows are claimed ``SKIP LOCKED``)."""
    today = today or firm_today()
    sweep = sweep or Sweep(OVERDUE_SWEEP)
    due = (
        FeedbackFollowUp.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("owner", "callback__customer", "callback__project")
        .filter(status=FeedbackFollowUp.Status.OPEN, due_on__lt=today, overdue_raised_at__isnull=True)
        .order_by("due_on", "id")
    )
    now = timezone.now()
    admin = firm_admins().first()
    raised = 0
    for follow_up in sweep.batch(due):
        raised += sweep.run(follow_up.pk, _raise_overdue, follow_up, admin=admin, now=now) or 0
    return raised


def _raise_overdue(follow_up: FeedbackFollowUp, *, admin, now: datetime) -> int:
    follow_up.overdue_raised_at = now
    follow_up.save(update_fields=["overdue_raised_at"])
    told = {follow_up.owner, admin} - {None}
    for user in sorted(told, key=lambda user: user.pk):
        _tell(follow_up, user, key=f"feedback-follow-up:{follow_up.pk}:overdue:{user.pk}", headline=OVERDUE_HEADLINE)
    return 1


# Messages -----------------------------------------------------------------------------------------------------


def _page_url(follow_up: FeedbackFollowUp) -> str:
    try:
        return f"{django_settings.SITE_URL}{reverse('callbacks:follow-up', args=[follow_up.pk])}"
    except NoReverseMatch:
        return ""


def _context(follow_up: FeedbackFollowUp) -> dict:
    callback = follow_up.callback
    return {
        "id": follow_up.pk,
        "department": Department(follow_up.department).label,
        "customer": callback.customer.name,
        "project": callback.project.name,
        "due": follow_up.due_on.isoformat(),
        "firm": require_current_tenant().name,
    }


def _tell(follow_up: FeedbackFollowUp, user, *, key: str, headline: str) -> None:
    """Tell ``user`` what the follow-up asks of them and by when, in the firm's language."""
    if user is None:
        return
    with translation.override(require_current_tenant().language):
        context = _context(follow_up)
        subject = _("Feedback follow-up #%(id)s (%(department)s): %(customer)s") % context
        body = (
            _(headline)
            + ": "
            + _("%(customer)s (%(project)s), %(department)s — follow up by %(due)s. — %(firm)s") % context
        )
        url = _page_url(follow_up)
        if url:
            body += " " + url
    notify_staff(user, subject=subject, body=body, idempotency_key=key, link=url)


def _tell_outcome(follow_up: FeedbackFollowUp, agent) -> None:
    """Tell the agent who took the survey what the department did (追踪回访处理结果)."""
    with translation.override(require_current_tenant().language):
        context = {**_context(follow_up), "outcome": follow_up.outcome}
        subject = _("Feedback follow-up #%(id)s closed: %(customer)s") % context
        body = _("%(department)s followed up the feedback of %(customer)s (%(project)s): %(outcome)s") % context
        url = _page_url(follow_up)
        if url:
            body += " " + url
    notify_staff(
        agent, subject=subject, body=body, idempotency_key=f"feedback-follow-up:{follow_up.pk}:closed", link=url
    )
