"""Staff pages for complaints: the board by level with the running clocks, the filtered list, a complaint
with its handling log and the actions of its stage, taking a complaint in, the firm's settings and the
report; and the homeowner portal's complaints page."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from complaints import selectors
from complaints.forms import (
    ComplaintFilterForm,
    ComplaintForm,
    ComplaintSettingsForm,
    CustomerSearchForm,
    EscalateForm,
    NoteForm,
    PortalComplaintForm,
    PortalVerdictForm,
    ReassignForm,
    ReportForm,
    ReportPeriodForm,
    ResolveForm,
    RespondForm,
    VerdictForm,
)
from complaints.models import Complaint
from complaints.services import escalation, handling, intake
from complaints.services import portal as portal_services
from complaints.services import settings as settings_services
from contracts.models import Project
from leads.models import Customer
from leads.selectors import customer_match
from renocrm.accounts.access import permission_required
from renocrm.forms import page_action, submit
from renocrm.paging import before_param
from renocrm.privacy.masking import may_see_contacts
from worksites.views.portal import homeowner_name, portal_client, portal_page, portal_render, remember_homeowner

VIEW, MANAGE = "complaints.view", "complaints.manage"
CUSTOMER_MATCHES = 20


@permission_required(VIEW)
def complaint_board(request):
    mine = request.GET.get("mine") == "1"
    columns = selectors.complaint_board(owner=request.user if mine else None)
    return render(request, "complaints/board.html", {"columns": columns, "mine": mine})


@permission_required(VIEW)
def complaint_list(request):
    form = ComplaintFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    complaints, older = selectors.complaint_page(
        status=filters.get("status", ""),
        level=filters.get("level"),
        category=filters.get("category", ""),
        owner=filters.get("owner"),
        overdue=bool(filters.get("overdue")),
        q=filters.get("q", ""),
        full_contacts=may_see_contacts(request),
        before=before_param(request),
    )
    context = {"form": form, "complaints": complaints, "older": older}
    return render(request, "complaints/complaint_list.html", context)


@permission_required(MANAGE)
def complaint_create(request):
    """Take a complaint in: find the customer first (name or mobile), then the complaint itself."""
    customer = None
    chosen = request.POST.get("customer") or request.GET.get("customer", "")
    project = None
    if request.GET.get("project", "").isdigit():
        project = Project.objects.select_related("customer").filter(pk=int(request.GET["project"])).first()
        customer = project.customer if project else None
    if customer is None and chosen.isdigit():
        customer = Customer.objects.filter(pk=int(chosen)).first()
    if customer is None:
        search = CustomerSearchForm(request.GET or None)
        q = search.cleaned_data["q"].strip() if search.is_valid() else ""
        matches = (
            list(
                Customer.objects.filter(customer_match(q, full_contacts=may_see_contacts(request))).order_by(
                    "name", "id"
                )[:CUSTOMER_MATCHES]
            )
            if q
            else []
        )
        context = {"search": search, "q": q, "matches": matches}
        return render(request, "complaints/complaint_new.html", context)
    initial = {"project": project.pk} if project else {}
    if project is None:
        projects = list(Project.objects.filter(customer=customer).order_by("-id")[:2])
        if len(projects) == 1:
            initial = {"project": projects[0].pk}
    form = ComplaintForm(request.POST or None, customer=customer, initial=initial)
    complaint = submit(request, form, lambda data: intake.complaint_open(**data, opened_by=request.user))
    if complaint:
        messages.success(request, _("Complaint #%(id)s taken in.") % {"id": complaint.pk})
        return redirect("complaints:detail", pk=complaint.pk)
    return render(request, "complaints/complaint_new.html", {"form": form, "customer": customer})


# One complaint and its actions ---------------------------------------------------------------------------------

# Each action: its form, and the service call it makes from the form's data.
ACTIONS = {
    "respond": (RespondForm, lambda c, user, d: handling.complaint_respond(complaint=c, by=user, text=d["text"])),
    "note": (NoteForm, lambda c, user, d: handling.complaint_note_add(complaint=c, by=user, text=d["text"])),
    "reassign": (ReassignForm, lambda c, user, d: handling.complaint_reassign(complaint=c, by=user, **d)),
    "resolve": (ResolveForm, lambda c, user, d: handling.complaint_resolve(complaint=c, by=user, **d)),
    "report": (ReportForm, lambda c, user, d: handling.complaint_report(complaint=c, by=user, text=d["text"])),
    "verdict": (VerdictForm, lambda c, user, d: handling.complaint_verdict_record(complaint=c, by=user, **d)),
    "escalate": (EscalateForm, lambda c, user, d: escalation.complaint_escalate(complaint=c, by=user, **d)),
}
DONE = {
    "respond": gettext_lazy("Response recorded; the resolve clock runs on."),
    "note": gettext_lazy("Note added."),
    "reassign": gettext_lazy("Complaint handed over."),
    "resolve": gettext_lazy("Complaint resolved. Report the result to the customer."),
    "report": gettext_lazy("Result reported. Record the customer's verdict when you have it."),
    "verdict": gettext_lazy("Verdict recorded."),
    "escalate": gettext_lazy("Complaint escalated."),
}


def _available_actions(complaint: Complaint) -> set[str]:
    """The actions that fit the complaint's stage (the services refuse the others anyway)."""
    if complaint.status in Complaint.ACTIVE_STATUSES:
        available = {"note", "reassign", "resolve"}
        if complaint.responded_at is None:
            available.add("respond")
        if complaint.level < escalation.TOP_LEVEL:
            available.add("escalate")
        return available
    if complaint.status == Complaint.Status.RESOLVED:
        return {"note", "verdict"} if complaint.reported_at else {"note", "report"}
    return {"note"}


def _detail_page(request, complaint_pk: int, bound: tuple[str, object] | None = None):
    try:
        complaint = selectors.complaint_detail(pk=complaint_pk)
    except Complaint.DoesNotExist:
        raise Http404 from None
    may_manage = request.membership.has_perm(MANAGE)
    available = _available_actions(complaint) if may_manage else set()
    forms = {name: ACTIONS[name][0](prefix=name) for name in available}
    if bound is not None:  # shown even when refused because it no longer fits the stage
        forms[bound[0]] = bound[1]
    context = {
        "complaint": complaint,
        "may_manage": may_manage,
        "forms": forms,
        "refused": bound[0] if bound else "",
    }
    return render(request, "complaints/complaint_detail.html", context)


@permission_required(VIEW)
def complaint_detail(request, pk):
    return _detail_page(request, pk)


@require_POST
@permission_required(MANAGE)
def complaint_action(request, pk, action):
    """One action from the complaint's page. A refusal or bad input shows the page again with the errors
    on the action's form."""
    complaint = get_object_or_404(Complaint, pk=pk)
    form_class, run = ACTIONS[action]
    return page_action(
        request,
        lambda data: run(complaint, request.user, data),
        form=form_class(request.POST, prefix=action),
        done=DONE[action],
        back=reverse("complaints:detail", args=[pk]) + "#log",
        page=lambda form: _detail_page(request, pk, bound=(action, form)),
    )


# Settings and report ---------------------------------------------------------------------------------------


@permission_required(VIEW, to_post="firm.manage")
def complaint_settings(request):
    """Hours per level and the owners of levels 2 and 3; changing them needs the firm admin."""
    may_edit = request.membership.has_perm("firm.manage")
    settings = settings_services.complaint_settings_get()
    form = ComplaintSettingsForm(request.POST or None, instance=settings)
    if submit(request, form, lambda data: settings_services.complaint_settings_update(**data)):
        messages.success(request, _("Complaint settings saved; new clocks use them from now on."))
        return redirect("complaints:settings")
    return render(request, "complaints/settings.html", {"form": form, "may_edit": may_edit})


@permission_required(VIEW)
def complaint_report(request):
    form = ReportPeriodForm(request.GET or None)
    period = form.cleaned_data if form.is_valid() else {}
    report = selectors.complaint_report(start=period.get("start"), end=period.get("end"))
    categories = dict(Complaint.Category.choices)
    trades = dict(Complaint._meta.get_field("trade").choices)
    for row in report["by_category"]:
        row["label"] = categories.get(row["category"], row["category"])
    for row in report["by_trade"]:
        row["label"] = trades.get(row["trade"], row["trade"]) if row["trade"] else _("No trade named")
    mean = report["mean_time_to_resolve"]
    context = {
        "form": form,
        "report": report,
        "mean_hours": round(mean.total_seconds() / 3600, 1) if mean is not None else None,
        "levels": [(selectors.LEVEL_LABELS[level], n) for level, n in report["by_level"].items()],
        "sla": [(selectors.SLA_STATE_LABELS[state], state, n) for state, n in report["open"]["counts"].items()],
    }
    return render(request, "complaints/report.html", context)


# The homeowner portal ----------------------------------------------------------------------------------------


def _portal_page(request, link, *, form=None, verdict_form=None, status=200):
    project = link.worksite.project
    name = homeowner_name(request, link)
    complaints = selectors.project_complaints(project=project)
    response = portal_render(
        request,
        link,
        "portal/complaints_page.html",
        "complaints",
        complaints=complaints,
        form=form or PortalComplaintForm(initial={"name": name}),
        verdict_form=verdict_form,
        name=name,
    )
    response.status_code = status
    return response


@portal_page("GET", "HEAD")
def portal_complaints(request, link):
    return _portal_page(request, link)


@portal_page("POST")
def portal_complaint_file(request, link):
    form = PortalComplaintForm(request.POST)
    done = submit(
        request,
        form,
        lambda data: portal_services.portal_complaint_file(link=link, **data, **portal_client(request)),
    )
    if done:
        remember_homeowner(request, form.cleaned_data["name"])
        messages.success(request, _("Thank you — your complaint is received. We will contact you soon."))
        return redirect("complaints_portal:complaints", token=link.token)
    return _portal_page(request, link, form=form, status=400)


@portal_page("POST")
def portal_complaint_verdict(request, link):
    form = PortalVerdictForm(request.POST)
    complaint = None
    if form.is_valid():
        # Only a complaint about this link's project: any other id is a 404.
        complaint = get_object_or_404(Complaint, pk=form.cleaned_data["object"], project_id=link.worksite.project_id)
    done = submit(
        request,
        form,
        lambda data: portal_services.portal_complaint_verdict(
            link=link,
            complaint=complaint,
            verdict=data["verdict"],
            name=data["name"],
            comment=data["comment"],
            **portal_client(request),
        ),
    )
    if done:
        remember_homeowner(request, form.cleaned_data["name"])
        if form.cleaned_data["verdict"] == Complaint.Verdict.SATISFIED:
            messages.success(request, _("Thank you — we are glad it is settled."))
        else:
            messages.success(request, _("We are sorry. Your complaint is open again and we will contact you soon."))
        return redirect("complaints_portal:complaints", token=link.token)
    return _portal_page(request, link, verdict_form=form, status=400)
