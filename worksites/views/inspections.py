"""Staff pages for the worksite's inspections with their sign-offs, material arrivals, site patrols and site
problems: one page listing them all, and a one-column form per action (usable one-handed on a phone).
Every action's URL names the record it acts on; a refusal comes back on its form."""

from functools import partial

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renocrm.accounts.access import permission_required
from renocrm.forms import apply_service_errors, page_action, submit
from renocrm.tenancy.time import firm_today
from worksites.forms.inspections import (
    CircuitDiagramForm,
    InspectionResultForm,
    InspectionScheduleForm,
    MaterialArrivalForm,
    MaterialRejectForm,
    ProblemChooseForm,
    SignForm,
    SitePatrolForm,
    SiteProblemForm,
    SolutionFormSet,
)
from worksites.models import Inspection, MaterialArrival, SignoffRole, SitePatrol, SiteProblem, Worksite
from worksites.selectors import inspections as selectors
from worksites.services import inspections as services
from worksites.services.signing import SIGNER_ROLES
from worksites.views.offline import note_refusal, offline_capture, offline_page

VIEW, MANAGE = "worksites.view", "worksites.manage"

# The patrol role a staff role patrols in, to preselect it.
PATROL_ROLE_OF = {
    "designer": SitePatrol.Role.DESIGNER,
    "project_manager": SitePatrol.Role.FOREMAN,
    "qc": SitePatrol.Role.QC_INSPECTOR,
}


def _worksite(pk):
    return get_object_or_404(Worksite.objects.select_related("project__customer"), pk=pk)


def _on_site(model, pk, related):
    """An inspection, a delivery or a problem, with its worksite for the page header and ``related``."""
    return get_object_or_404(
        model.objects.select_related("worksite__project__customer").prefetch_related(related), pk=pk
    )


def _site_url(worksite_id, anchor=""):
    url = reverse("worksites:site", args=[worksite_id])
    return f"{url}#{anchor}" if anchor else url


def _signable_roles(membership) -> set[str]:
    """The staff parties this person may sign for."""
    return {role for role, roles in SIGNER_ROLES.items() if membership.has_role(*roles)}


def _form_page(request, worksite, title, form, *, formset=None, facts=(), button=None, anchor="", offline=""):
    """A one-column form; ``offline`` names what the form records when it may be filled in without signal."""
    note_refusal(request, form, formset)
    context = {
        "worksite": worksite,
        "title": title,
        "form": form,
        "formset": formset,
        "facts": facts,
        "submit": button or _("Save"),
        "back_url": _site_url(worksite.pk, anchor),
        "offline": offline,
    }
    return render(request, "worksites/site_form.html", context)


def _data(request):
    """The form's data on a POST (an empty POST is bound too, so it shows what is missing), else None."""
    return request.POST if request.method == "POST" else None


def _signoff_facts(required, signoffs):
    return [
        (row.label, row.signoff.signed_name if row.signoff else _("not signed yet"))
        for row in selectors.signoff_rows(required, signoffs)
    ]


def _sign_page(request, subject, *, sign, roles, title, facts, anchor, with_note=True):
    """The sign-off form of an inspection or a material arrival. It preselects the party asked for (?role=),
    else the first still unsigned one this person signs for; the homeowner's name is offered for them."""
    worksite = subject.worksite
    signed = {s.role for s in subject.signoffs.all()}
    asked, mine = request.GET.get("role"), _signable_roles(request.membership)
    role = asked if asked in roles else next((r for r in roles if r not in signed and r in mine), None)
    initial = {"role": role}
    if role == SignoffRole.HOMEOWNER:
        initial["signed_name"] = worksite.project.customer.name
    files = request.FILES if request.method == "POST" else None
    form = SignForm(_data(request), files, roles=roles, with_note=with_note, initial=initial)
    if signoff := submit(request, form, lambda data: sign(user=request.user, **data)):
        messages.success(request, _("Signed as %(role)s.") % {"role": signoff.get_role_display()})
        return redirect(_site_url(worksite.pk, anchor))
    return _form_page(request, worksite, title, form, facts=facts, button=_("Sign"), anchor=anchor)


@offline_page
@permission_required(VIEW)
def site_log(request, pk):
    worksite = _worksite(pk)
    may_manage = request.membership.has_perm(MANAGE)
    context = {
        "worksite": worksite,
        "may_manage": may_manage,
        "signable_roles": _signable_roles(request.membership) if may_manage else set(),
        **selectors.site_log(worksite=worksite),
    }
    return render(request, "worksites/site_log.html", context)


# Inspections -----------------------------------------------------------------------------------------------


@permission_required(MANAGE)
def inspection_create(request, pk):
    worksite = _worksite(pk)
    form = InspectionScheduleForm(_data(request), worksite=worksite, initial={"scheduled_on": firm_today()})
    inspection = submit(
        request, form, lambda data: services.inspection_schedule(worksite=worksite, created_by=request.user, **data)
    )
    if inspection:
        return redirect(_site_url(worksite.pk, f"inspection-{inspection.pk}"))
    return _form_page(request, worksite, _("Schedule an inspection"), form)


def _inspection_facts(inspection):
    facts = [(_("Inspection"), inspection.get_kind_display())]
    if inspection.scheduled_on:
        facts.append((_("Date"), inspection.scheduled_on.isoformat()))
    return facts + _signoff_facts(inspection.required_roles, inspection.signoffs.all())


@permission_required(MANAGE)
def inspection_sign(request, pk):
    inspection = _on_site(Inspection, pk, "signoffs")
    return _sign_page(
        request,
        inspection,
        sign=partial(services.inspection_sign, inspection=inspection),
        roles=inspection.required_roles,
        title=_("Sign the inspection"),
        facts=_inspection_facts(inspection),
        anchor=f"inspection-{inspection.pk}",
    )


@permission_required(MANAGE)
def inspection_result(request, pk):
    inspection = _on_site(Inspection, pk, "signoffs")
    closed_water = inspection.kind == Inspection.Kind.WATERPROOFING_TEST
    form = InspectionResultForm(_data(request), closed_water=closed_water)

    def record(data):
        return services.inspection_record_result(
            inspection=inspection,
            passed=data["outcome"] == "passed",
            findings=data["findings"],
            decided_by=request.user,
            water_hours=data.get("water_hours"),
        )

    if done := submit(request, form, record):
        messages.success(
            request, _("%(kind)s: %(result)s.") % {"kind": done.get_kind_display(), "result": done.get_result_display()}
        )
        return redirect(_site_url(inspection.worksite_id, f"inspection-{inspection.pk}"))
    return _form_page(
        request,
        inspection.worksite,
        _("Record the result"),
        form,
        facts=_inspection_facts(inspection),
        anchor=f"inspection-{inspection.pk}",
    )


@permission_required(MANAGE)
def inspection_circuit_diagram(request, pk):
    inspection = _on_site(Inspection, pk, "signoffs")
    form = CircuitDiagramForm(_data(request), request.FILES if request.method == "POST" else None)
    attached = submit(
        request,
        form,
        lambda data: services.inspection_attach_circuit_diagram(inspection=inspection, upload=data["file"]),
    )
    if attached:
        messages.success(request, _("The circuit diagram is attached."))
        return redirect(_site_url(inspection.worksite_id, f"inspection-{inspection.pk}"))
    return _form_page(
        request,
        inspection.worksite,
        _("Attach the circuit diagram"),
        form,
        facts=_inspection_facts(inspection),
        button=_("Upload"),
        anchor=f"inspection-{inspection.pk}",
    )


# Material arrivals ------------------------------------------------------------------------------------------


@permission_required(MANAGE)
def material_create(request, pk):
    worksite = _worksite(pk)
    form = MaterialArrivalForm(_data(request), initial={"arrived_on": firm_today()})
    arrival = submit(
        request,
        form,
        lambda data: services.material_arrival_record(worksite=worksite, recorded_by=request.user, **data),
    )
    if arrival:
        return redirect(_site_url(worksite.pk, f"material-{arrival.pk}"))
    return _form_page(request, worksite, _("Record a material delivery"), form)


def _arrival_facts(arrival):
    return [
        (_("Material"), f"{arrival.material} {arrival.brand_model}".strip()),
        (_("Quantity"), f"{arrival.quantity} {arrival.unit}"),
        (_("Arrived on"), arrival.arrived_on.isoformat()),
        *_signoff_facts(MaterialArrival.REQUIRED_SIGNOFFS, arrival.signoffs.all()),
    ]


@permission_required(MANAGE)
def material_sign(request, pk):
    arrival = _on_site(MaterialArrival, pk, "signoffs")
    return _sign_page(
        request,
        arrival,
        sign=partial(services.material_arrival_sign, arrival=arrival),
        roles=MaterialArrival.REQUIRED_SIGNOFFS,
        with_note=False,
        title=_("Accept the delivery"),
        facts=_arrival_facts(arrival),
        anchor=f"material-{arrival.pk}",
    )


@permission_required(MANAGE)
def material_reject(request, pk):
    arrival = _on_site(MaterialArrival, pk, "signoffs")
    form = MaterialRejectForm(_data(request))
    if submit(request, form, lambda data: services.material_arrival_reject(arrival=arrival, user=request.user, **data)):
        messages.success(request, _("The delivery is rejected."))
        return redirect(_site_url(arrival.worksite_id, f"material-{arrival.pk}"))
    return _form_page(
        request,
        arrival.worksite,
        _("Reject the delivery"),
        form,
        facts=_arrival_facts(arrival),
        button=_("Reject"),
        anchor=f"material-{arrival.pk}",
    )


# Site patrols ------------------------------------------------------------------------------------------------


@offline_capture
@permission_required(MANAGE)
def patrol_create(request, pk):
    worksite = _worksite(pk)
    initial = {"patrolled_on": firm_today(), "role": PATROL_ROLE_OF.get(request.membership.role)}
    form = SitePatrolForm(_data(request), initial=initial)
    patrol = submit(
        request, form, lambda data: services.site_patrol_record(worksite=worksite, patrolled_by=request.user, **data)
    )
    if patrol:
        return redirect(_site_url(worksite.pk, f"patrol-{patrol.pk}"))
    return _form_page(request, worksite, _("Record a site patrol"), form, offline=_("Site patrol"))


# Site problems ---------------------------------------------------------------------------------------------


@offline_capture
@permission_required(MANAGE)
def problem_create(request, pk):
    worksite = _worksite(pk)
    form = SiteProblemForm(_data(request), worksite=worksite)
    solutions = SolutionFormSet(_data(request), prefix="solutions")
    # Not ``submit``: a refusal about the solutions belongs above the solutions table, not the form.
    if request.method == "POST" and form.is_valid() and solutions.is_valid():
        try:
            problem = services.site_problem_raise(
                worksite=worksite, raised_by=request.user, solutions=solutions.rows(), **form.cleaned_data
            )
        except ValidationError as error:
            if hasattr(error, "error_dict") and "solutions" in error.error_dict:
                apply_service_errors(solutions, ValidationError(error.message_dict["solutions"]))
            else:
                apply_service_errors(form, error)
        else:
            return redirect(_site_url(worksite.pk, f"problem-{problem.pk}"))
    return _form_page(request, worksite, _("Raise a site problem"), form, formset=solutions, offline=_("Site problem"))


@permission_required(MANAGE)
def problem_choose(request, pk):
    problem = _on_site(SiteProblem, pk, "solutions")
    worksite = problem.worksite
    form = ProblemChooseForm(_data(request), problem=problem, initial={"chosen_name": worksite.project.customer.name})
    if submit(request, form, lambda data: services.site_problem_choose(problem=problem, user=request.user, **data)):
        messages.success(request, _("The homeowner's choice is recorded."))
        return redirect(_site_url(worksite.pk, f"problem-{problem.pk}"))
    facts = [(_("Problem"), problem.title)]
    if problem.description:
        facts.append((_("Description"), problem.description))
    return _form_page(
        request, worksite, _("Record the homeowner's choice"), form, facts=facts, anchor=f"problem-{problem.pk}"
    )


@require_POST
@permission_required(MANAGE)
def problem_resolve(request, pk):
    problem = get_object_or_404(SiteProblem, pk=pk)
    return page_action(
        request,
        lambda: services.site_problem_resolve(problem=problem),
        about=problem.title,
        done=_("%(problem)s is resolved.") % {"problem": problem.title},
        back=_site_url(problem.worksite_id, f"problem-{problem.pk}"),
    )
