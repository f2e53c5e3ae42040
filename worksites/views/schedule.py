"""Staff pages for worksites: the list by current phase, the worksite with its timeline and phase actions
(usable one-handed on a phone), the crew, the technical handover and the firm's schedule template."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renocrm.accounts.access import permission_required
from renocrm.forms import page_action, submit
from renocrm.paging import before_param
from renocrm.tenancy.time import firm_today
from worksites.forms.gates import GateOverrideForm
from worksites.forms.schedule import (
    CrewForm,
    PhaseAcceptForm,
    PhaseDateForm,
    TechnicalHandoverForm,
    TemplateRowFormSet,
    WorksiteFilterForm,
)
from worksites.models import Phase, Worksite
from worksites.selectors import gates as gate_selectors
from worksites.selectors import schedule as selectors
from worksites.services import schedule as services

VIEW, MANAGE = "worksites.view", "worksites.manage"


@permission_required(VIEW)
def worksite_list(request):
    form = WorksiteFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    worksites, older = selectors.worksite_page(
        status=filters.get("status", ""),
        phase=filters.get("phase", ""),
        mine=request.user if filters.get("mine") else None,
        lifted=filters.get("lifted", False),
        before=before_param(request),
    )
    context = {"form": form, "worksites": worksites, "older": older, "today": firm_today()}
    return render(request, "worksites/worksite_list.html", context)


@permission_required(VIEW)
def worksite_board(request):
    mine = request.GET.get("mine") == "1"
    columns = selectors.worksite_board(today=firm_today(), mine=request.user if mine else None)
    return render(request, "worksites/board.html", {"columns": columns, "mine": mine})


def _worksite(pk):
    return get_object_or_404(
        Worksite.objects.select_related(
            "project__customer",
            "project__property",
            "contract",
            "designer",
            "project_manager",
            "qc_inspector",
            "customer_service",
        ),
        pk=pk,
    )


def _worksite_form_page(request, form, worksite, title):
    back = reverse("worksites:detail", args=[worksite.pk])
    context = {"form": form, "title": title, "back_url": back, "back_label": worksite.project.name, "cancel_url": back}
    return render(request, "form_page.html", context)


@permission_required(VIEW)
def worksite_detail(request, pk):
    worksite = _worksite(pk)
    phases = list(worksite.phases.all())
    today = firm_today()
    context = {
        "worksite": worksite,
        "phases": phases,
        "timeline": selectors.worksite_timeline(phases=phases, today=today),
        "today": today,
        "handover": worksite.technical_handovers.first(),
        "may_manage": request.membership.has_perm(MANAGE),
        "gates": gate_selectors.gate_rows(worksite, phases),
        "lift_form": GateOverrideForm() if request.membership.has_perm("firm.manage") else None,
    }
    return render(request, "worksites/worksite_detail.html", context)


@require_POST
@permission_required(MANAGE)
def phase_action(request, pk, action):
    """Start, finish or record the homeowner's sign-off of a phase; a refusal comes back as a message."""
    phase = get_object_or_404(Phase, pk=pk)
    outcome = {"about": phase.name, "done": _("%(phase)s updated.") % {"phase": phase.name}}
    back = reverse("worksites:detail", args=[phase.worksite_id])
    if action == "accept":
        return page_action(
            request,
            lambda data: services.phase_accept(phase=phase, name=data["name"]),
            form=PhaseAcceptForm(request.POST),
            invalid=_("Give the name of the person signing off."),
            back=back,
            **outcome,
        )
    form = PhaseDateForm(request.POST)
    on = form.cleaned_data["on"] if form.is_valid() else None
    service = services.phase_start if action == "start" else services.phase_complete
    return page_action(request, lambda: service(phase=phase, on=on), back=back, **outcome)


@permission_required(MANAGE)
def crew_edit(request, pk):
    worksite = _worksite(pk)
    initial = {
        "designer": worksite.designer,
        "project_manager": worksite.project_manager,
        "qc_inspector": worksite.qc_inspector,
        "customer_service": worksite.customer_service,
    }
    form = CrewForm(request.POST or None, initial=initial)
    if submit(request, form, lambda data: services.worksite_assign_crew(worksite=worksite, **data)):
        return redirect("worksites:detail", pk=worksite.pk)
    return _worksite_form_page(request, form, worksite, _("Crew"))


@permission_required(MANAGE)
def technical_handover_create(request, pk):
    worksite = _worksite(pk)
    form = TechnicalHandoverForm(request.POST or None, initial={"held_on": firm_today()})
    if submit(
        request, form, lambda data: services.technical_handover_record(worksite=worksite, by=request.user, **data)
    ):
        return redirect("worksites:detail", pk=worksite.pk)
    return _worksite_form_page(request, form, worksite, _("Technical handover"))


@permission_required(VIEW, to_post="firm.manage")
def template_edit(request):
    """The firm's schedule template; editing needs the firm admin's permission."""
    may_edit = request.membership.has_perm("firm.manage")
    fields = ("kind", "name", "duration_days", "requires_acceptance", *services.COVER_FIELDS)
    initial = [{field: getattr(t, field) for field in fields} for t in services.phase_templates_get()]
    formset = TemplateRowFormSet(request.POST or None, initial=initial, prefix="phases")
    if submit(request, formset, lambda _rows: services.phase_templates_replace(rows=formset.rows())):
        messages.success(request, _("The schedule template is saved; new worksites will follow it."))
        return redirect("worksites:template")
    return render(request, "worksites/template.html", {"formset": formset, "may_edit": may_edit})
