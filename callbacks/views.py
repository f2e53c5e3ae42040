"""Staff pages of callbacks: the customer-service work queue, the callback with its actions and the survey
filled in during the call, the firm's plan and settings; and the homeowner's survey page behind the SMS link
(public, no account: the signed token names the firm and the callback)."""

from functools import partial

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from callbacks import selectors
from callbacks.forms import (
    ATTEMPT_BUTTONS,
    BUCKETS,
    AssignForm,
    AttemptForm,
    CallbackSettingsForm,
    CancelForm,
    FollowUpCloseForm,
    FollowUpFilterForm,
    PlanFormSet,
    QueueFilterForm,
    SurveyForm,
    VisitForm,
)
from callbacks.models import SURVEY_SMS, Callback, FeedbackFollowUp, Survey
from callbacks.services import actions as action_services
from callbacks.services import follow_ups, survey_link
from callbacks.services import plan as plan_services
from callbacks.services import surveys as survey_services
from renocrm.accounts.access import permission_required
from renocrm.accounts.roles import Role
from renocrm.forms import page_action, submit
from renocrm.paging import before_param
from renocrm.tenancy.context import get_current_tenant, require_current_tenant
from renocrm.tenancy.time import firm_today
from worksites.views.portal import portal_finish, portal_language

VIEW, MANAGE = "callbacks.view", "callbacks.manage"
PAGE_SIZE = 50


# The work queue ----------------------------------------------------------------------------------------------


@permission_required(VIEW)
def callback_list(request):
    data = request.GET.copy()
    if not data.get("agent"):
        # An agent starts with their own calls; an admin, a designer or a project manager with everybody's.
        data["agent"] = selectors.MINE if request.membership.has_role(Role.CUSTOMER_SERVICE) else selectors.ALL
    form = QueueFilterForm(data)
    agent = form.agent_filter(request.user)
    method = form.cleaned_data.get("method", "") if form.is_valid() else ""
    crew = selectors.reader_bound(request.membership, request.user)
    counts = selectors.queue_counts(agent=agent, crew=crew)
    # The tab asked for, else the one where the work is.
    bucket = request.GET.get("bucket", "")
    bucket = bucket if bucket in dict(BUCKETS) else selectors.queue_first_bucket(counts)
    rows, older = selectors.work_queue(
        bucket=bucket, agent=agent, method=method or None, crew=crew, before=before_param(request), size=PAGE_SIZE
    )
    today = firm_today()
    for row in rows:
        row.days_overdue = (today - row.due_on).days if row.status in Callback.ACTIVE_STATUSES else 0
    tabs = [(key, label, counts.get(key, 0)) for key, label in BUCKETS]
    context = {
        "form": form,
        "rows": rows,
        "older": older,
        "bucket": bucket,
        "tabs": tabs,
        "today": today,
        "may_manage": request.membership.has_perm(MANAGE),
    }
    return render(request, "callbacks/callback_list.html", context)


# One callback --------------------------------------------------------------------------------------------------


def _survey_links(survey: Survey) -> list[tuple[str, str, str]]:
    """What the survey started, one click away: (test id, label, url)."""
    links = []
    if survey.lead_id:
        links.append(("survey-lead", _("New lead for sales"), reverse("leads:detail", args=[survey.lead_id])))
    if survey.repair_request_id:
        links.append(
            ("survey-repair", _("Repair request"), reverse("aftercare:repair", args=[survey.repair_request_id]))
        )
    if survey.complaint_id:
        links.append(("survey-complaint", _("Complaint"), reverse("complaints:detail", args=[survey.complaint_id])))
    return links


def _may_survey(callback, survey) -> bool:
    return survey is None and callback.status not in (Callback.Status.COMPLETED, Callback.Status.CANCELLED)


@permission_required(VIEW)
def callback_detail(request, pk):
    """The callback with its actions, and the survey form the agent fills in during the call (POST)."""
    # A designer or project manager reads only their own projects' callbacks: another one is not found.
    callback = selectors.callback_detail(pk, crew=selectors.reader_bound(request.membership, request.user))
    may_manage = request.membership.has_perm(MANAGE)
    survey = next(iter(callback.surveys.all()), None)
    form = None
    if may_manage and _may_survey(callback, survey):
        form = SurveyForm(request.POST or None)
        done = submit(
            request,
            form,
            lambda _data: survey_services.survey_submit(
                callback=callback, via=Survey.Via.STAFF, by=request.user, **form.submission()
            ),
        )
        if done:
            messages.success(request, _("Survey saved; the callback is completed."))
            return redirect(reverse("callbacks:detail", args=[callback.pk]) + "#survey")
    elif request.method == "POST":
        if not may_manage:
            raise PermissionDenied
        messages.error(request, _("This callback takes no survey any more."))
        return redirect("callbacks:detail", pk=callback.pk)
    worksite = callback.worksite
    context = {
        "callback": callback,
        "worksite": worksite,
        "survey": survey,
        "survey_links": _survey_links(survey) if survey else [],
        "form": form,
        "may_manage": may_manage,
        # Planned or open: it can be reassigned or called off; open: it can be worked.
        "is_pending": callback.status in (Callback.Status.SCHEDULED, *Callback.ACTIVE_STATUSES),
        "is_open": callback.status in Callback.ACTIVE_STATUSES,
        "attempt_buttons": ATTEMPT_BUTTONS,
        "assign_form": AssignForm(initial={"agent": callback.assigned_to_id}) if may_manage else None,
        "visit_form": VisitForm(),
        "cancel_form": CancelForm(),
        "follow_ups": list(callback.follow_ups.all()),
        "today": firm_today(),
    }
    return render(request, "callbacks/callback_detail.html", context)


# Each action on a callback's page: its form (none for a button), the service call it makes, what it says.
CALLBACK_ACTIONS = {
    "assign": (
        AssignForm,
        lambda callback, request, d: action_services.callback_assign(
            callback=callback, agent=d["agent"], by=request.user
        ),
        gettext_lazy("Agent assigned."),
    ),
    "attempt": (
        AttemptForm,
        lambda callback, request, d: action_services.callback_attempt_record(
            callback=callback, outcome=d["outcome"], note=d["note"], by=request.user
        ),
        gettext_lazy("Attempt recorded."),
    ),
    "sms": (
        None,
        lambda callback, request: action_services.callback_sms_send(
            callback=callback, by=request.user, base_url=request.build_absolute_uri("/")
        ),
        gettext_lazy("Survey link sent by SMS."),
    ),
    # The agent types the visit time as the firm's clock shows it (the firm's zone is the active one).
    "visit": (
        VisitForm,
        lambda callback, request, d: action_services.callback_visit_schedule(
            callback=callback, at=d["at"], by=request.user
        ),
        gettext_lazy("Visit scheduled."),
    ),
    "cancel": (
        CancelForm,
        lambda callback, request, d: action_services.callback_cancel(
            callback=callback, reason=d["reason"], by=request.user
        ),
        gettext_lazy("Callback cancelled."),
    ),
}


@require_POST
@permission_required(MANAGE)
def callback_action(request, pk, action):
    """One action from the callback's page; back to the page, a refusal as a message."""
    callback = get_object_or_404(Callback.objects.select_related("customer"), pk=pk)
    form_class, run, done = CALLBACK_ACTIONS[action]
    return page_action(
        request,
        partial(run, callback, request),
        form=form_class(request.POST) if form_class else None,
        done=done,
        back=reverse("callbacks:detail", args=[callback.pk]),
    )


# The plan and the settings -------------------------------------------------------------------------------------


def _step_row(step) -> dict:
    return {
        "id": step.pk,
        "position": step.position,
        "name": step.name,
        "anchor": step.anchor,
        "phase_kind": step.phase_kind,
        "offset": step.offset,
        "unit": step.unit,
        "method": step.method,
        "is_active": step.is_active,
    }


@permission_required(MANAGE)
def plan_edit(request):
    initial = [_step_row(step) for step in plan_services.plan_steps()]
    formset = PlanFormSet(request.POST or None, initial=initial, prefix="steps")
    if submit(request, formset, lambda _rows: plan_services.plan_save(rows=formset.rows())):
        messages.success(request, _("The callback plan is saved; projects handed over from now on follow it."))
        return redirect("callbacks:plan")
    return render(request, "callbacks/plan.html", {"formset": formset})


def _preview_values(request) -> dict:
    firm = require_current_tenant()
    return {
        "customer_name": _("Ms Wang"),
        "firm_name": firm.name,
        "agent_name": request.user.get_full_name() or str(request.user),
        "firm_phone": firm.phone,
        "survey_link": request.build_absolute_uri("/portal/survey/example/"),
    }


@permission_required(MANAGE)
def settings_edit(request):
    current = plan_services.callback_settings_get()
    form = CallbackSettingsForm(request.POST or None, instance=current)
    previewing = "preview" in request.POST
    if not previewing and submit(request, form, lambda data: plan_services.callback_settings_save(**data)):
        messages.success(request, _("Callback settings saved."))
        return redirect("callbacks:settings")
    template = current.sms_template
    if request.method == "POST":
        template = request.POST.get("sms_template", "")
    context = {
        "form": form,
        "placeholders": SURVEY_SMS.placeholders.items(),
        "preview": SURVEY_SMS.preview(template, _preview_values(request)),
    }
    return render(request, "callbacks/settings.html", context)


# Feedback follow-ups -------------------------------------------------------------------------------------------

# A department head may hold any role, so every member reaches these pages; each sees what
# ``selectors.follow_ups_visible`` allows them (their own follow-ups at least).
MEMBER = "dashboard.view"


def _is_admin(request) -> bool:
    return request.membership.has_role(Role.ADMIN)


@permission_required(MEMBER)
def follow_up_list(request):
    """My follow-ups (everyone's for a firm admin), the open ones by default, newest first."""
    form = FollowUpFilterForm(request.GET or None)
    owner, state = form.chosen(request.user, default_owner=selectors.ALL if _is_admin(request) else selectors.MINE)
    visible = selectors.follow_ups_visible(request.membership, request.user)
    rows, older = selectors.follow_up_page(visible, owner=owner, state=state, before=before_param(request))
    today = firm_today()
    for row in rows:
        row.lines = selectors.trigger_lines(row)
        row.is_overdue = row.status == FeedbackFollowUp.Status.OPEN and row.due_on < today
    if not form.is_bound:
        form = FollowUpFilterForm(initial={"owner": selectors.MINE if owner else selectors.ALL, "state": state})
    context = {
        "form": form,
        "rows": rows,
        "older": older,
        "may_view": request.membership.has_perm(VIEW),
        "may_manage": request.membership.has_perm(MANAGE),
    }
    return render(request, "callbacks/follow_up_list.html", context)


def _follow_up_page(request, follow_up, *, form=None):
    """The follow-up's page; the close form for its owner or an admin while it is open (or ``form``, bound
    with a refusal, for whoever tried)."""
    is_open = follow_up.status == FeedbackFollowUp.Status.OPEN
    if form is None and is_open and (follow_up.owner_id == request.user.pk or _is_admin(request)):
        form = FollowUpCloseForm()
    context = {
        "follow_up": follow_up,
        "lines": selectors.trigger_lines(follow_up),
        "callback": follow_up.callback,
        "agent": follow_ups.survey_agent(follow_up),
        "may_view_callback": selectors.callback_readable(follow_up.callback, request.membership, request.user),
        "form": form,
        "is_overdue": is_open and follow_up.due_on < firm_today(),
    }
    return render(request, "callbacks/follow_up_detail.html", context)


@permission_required(MEMBER)
def follow_up_detail(request, pk):
    follow_up = selectors.follow_up_detail(pk, visible=selectors.follow_ups_visible(request.membership, request.user))
    return _follow_up_page(request, follow_up)


@require_POST
@permission_required(MEMBER)
def follow_up_close(request, pk):
    """Close the follow-up with its outcome; a refusal (not the owner, already closed) shows on the form."""
    follow_up = selectors.follow_up_detail(pk, visible=selectors.follow_ups_visible(request.membership, request.user))
    return page_action(
        request,
        lambda data: follow_ups.follow_up_close(follow_up=follow_up, outcome=data["outcome"], by=request.user),
        form=FollowUpCloseForm(request.POST),
        done=_("Follow-up closed."),
        back=reverse("callbacks:follow-up", args=[follow_up.pk]),
        page=lambda form: _follow_up_page(request, follow_up, form=form),
    )


# The homeowner's survey page ----------------------------------------------------------------------------------


EXPIRED = gettext_lazy("This survey link has expired. Thank you all the same — you can always call us.")
INVALID = gettext_lazy("This link cannot be opened. Please check that it was copied completely.")


def survey_page(request, token):
    """The survey behind the SMS link: tampered → 404, expired → 410, answered → thanks without a form."""
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    with survey_link.open_survey_link(token) as (callback, problem):
        # An answered or expired link still names its firm (the context is entered); a tampered one does not.
        firm = get_current_tenant()
        chosen = portal_language(request, firm)
        if problem in ("invalid", "expired"):
            message = EXPIRED if problem == "expired" else INVALID
            status = 410 if problem == "expired" else 404
            response = render(request, "portal/link_invalid.html", {"problem": message, "token": None}, status=status)
            return portal_finish(response, chosen)
        timezone.activate(firm.zone)
        try:
            return portal_finish(_survey_response(request, firm, callback), chosen)
        finally:
            timezone.deactivate()


def _survey_response(request, firm, callback):
    context = {"firm": firm, "token": None, "callback": callback}
    if callback is None:
        return render(request, "portal/callbacks_thanks.html", context)
    form = SurveyForm(request.POST or None)
    if submit(
        request,
        form,
        lambda _data: survey_services.survey_submit(callback=callback, via=Survey.Via.SMS_LINK, **form.submission()),
    ):
        # Back to the link, which now opens as answered: a reload cannot send the answers twice.
        return redirect(request.path)
    return render(request, "portal/callbacks_survey.html", {**context, "form": form})
