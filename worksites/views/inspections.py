"""Staff pages for the worksite's inspections with their sign-offs, material arrivals, site patrols and site
problems: one page listing them all, and a one-column form per action (usable one-handed on a phone).
Every action's URL names the record it acts on; a refusal comes back on its form."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renocrm.accounts.access import permission_required
from renocrm.forms import apply_service_errors
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

VIEW, MANAGE = "worksites.view", "worksites.manage"

# The patrol role a staff role patrols in, to preselect it.
PATROL_ROLE_OF = {
    "designer": SitePatrol.Role.DESIGNER,
    "project_manager": SitePatrol.Role.FOREMAN,
    "qc": SitePatrol.Role.QC_INSPECTOR,
}


def _worksite(pk):
    return get_object_or_404(Worksite.objects.select_related("project__customer", "contract"), pk=pk)


def _site_url(worksite_id, anchor=""):
    url = reverse("worksites:site", args=[worksite_id])
    return f"{url}#{anchor}" if anchor else url


def _signable_roles(membership) -> set[str]:
    """The staff parties this person may sign for."""
    return {role for role, roles in services.SIGNER_ROLES.items() if membership.role in roles}


def _form_page(request, worksite, title, form, *, formset=None, facts=(), submit=None, anchor=""):
    context = {
        "worksite": worksite,
        "title": title,
        "form": form,
        "formset": formset,
        "facts": facts,
        "submit": submit or _("Save"),
        "back_url": _site_url(worksite.pk, anchor),
    }
    return render(request, "worksites/site_form.html", context)


def _data(request):
    """The form's data on a POST (an empty POST is bound too, so it shows what is missing), else None."""
    return request.POST if request.method == "POST" else None


def _files(request):
    return request.FILES if request.method == "POST" else None


def _run(form, service, **kwargs):
    """Call a service; its refusal lands on the form and None comes back."""
    try:
        return service(**kwargs)
    except ValidationError as error:
        apply_service_errors(form, error)
        return None


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
    if request.method == "POST" and form.is_valid():
        inspection = _run(
            form, services.inspection_schedule, worksite=worksite, created_by=request.user, **form.cleaned_data
        )
        if inspection:
            return redirect(_site_url(worksite.pk, f"inspection-{inspection.pk}"))
    return _form_page(request, worksite, _("Schedule an inspection"), form)


def _inspection(pk):
    return get_object_or_404(
        Inspection.objects.select_related("worksite__project__customer", "worksite__contract").prefetch_related(
            "signoffs"
        ),
        pk=pk,
    )


def _inspection_facts(inspection):
    signed = {s.role: s for s in inspection.signoffs.all()}
    facts = [(_("Inspection"), inspection.get_kind_display())]
    if inspection.scheduled_on:
        facts.append((_("Date"), inspection.scheduled_on.isoformat()))
    for role in inspection.required_roles:
        signoff = signed.get(role)
        facts.append((SignoffRole(role).label, signoff.signed_name if signoff else _("not signed yet")))
    return facts


def _sign_initial(request, roles, signed, customer_name):
    """Preselect the party asked for (?role=), else the first still unsigned one this person signs for."""
    asked = request.GET.get("role")
    mine = _signable_roles(request.membership)
    role = asked if asked in roles else next((r for r in roles if r not in signed and r in mine), None)
    initial = {"role": role}
    if role == SignoffRole.HOMEOWNER:
        initial["signed_name"] = customer_name
    return initial


@permission_required(MANAGE)
def inspection_sign(request, pk):
    inspection = _inspection(pk)
    worksite = inspection.worksite
    signed = {s.role for s in inspection.signoffs.all()}
    initial = _sign_initial(request, inspection.required_roles, signed, worksite.project.customer.name)
    form = SignForm(_data(request), roles=inspection.required_roles, initial=initial)
    if request.method == "POST" and form.is_valid():
        signoff = _run(form, services.inspection_sign, inspection=inspection, user=request.user, **form.cleaned_data)
        if signoff:
            messages.success(request, _("Signed as %(role)s.") % {"role": signoff.get_role_display()})
            return redirect(_site_url(worksite.pk, f"inspection-{inspection.pk}"))
    return _form_page(
        request,
        worksite,
        _("Sign the inspection"),
        form,
        facts=_inspection_facts(inspection),
        submit=_("Sign"),
        anchor=f"inspection-{inspection.pk}",
    )


@permission_required(MANAGE)
def inspection_result(request, pk):
    inspection = _inspection(pk)
    form = InspectionResultForm(_data(request))
    if request.method == "POST" and form.is_valid():
        done = _run(
            form,
            services.inspection_record_result,
            inspection=inspection,
            passed=form.cleaned_data["outcome"] == "passed",
            findings=form.cleaned_data["findings"],
            decided_by=request.user,
        )
        if done:
            messages.success(
                request,
                _("%(kind)s: %(result)s.") % {"kind": done.get_kind_display(), "result": done.get_result_display()},
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
    inspection = _inspection(pk)
    form = CircuitDiagramForm(_data(request), _files(request))
    if request.method == "POST" and form.is_valid():
        done = _run(
            form, services.inspection_attach_circuit_diagram, inspection=inspection, upload=form.cleaned_data["file"]
        )
        if done:
            messages.success(request, _("The circuit diagram is attached."))
            return redirect(_site_url(inspection.worksite_id, f"inspection-{inspection.pk}"))
    return _form_page(
        request,
        inspection.worksite,
        _("Attach the circuit diagram"),
        form,
        facts=_inspection_facts(inspection),
        submit=_("Upload"),
        anchor=f"inspection-{inspection.pk}",
    )


# Material arrivals ------------------------------------------------------------------------------------------


@permission_required(MANAGE)
def material_create(request, pk):
    worksite = _worksite(pk)
    form = MaterialArrivalForm(_data(request), initial={"arrived_on": firm_today()})
    if request.method == "POST" and form.is_valid():
        arrival = _run(
            form, services.material_arrival_record, worksite=worksite, recorded_by=request.user, **form.cleaned_data
        )
        if arrival:
            return redirect(_site_url(worksite.pk, f"material-{arrival.pk}"))
    return _form_page(request, worksite, _("Record a material delivery"), form)


def _arrival(pk):
    return get_object_or_404(
        MaterialArrival.objects.select_related("worksite__project__customer", "worksite__contract").prefetch_related(
            "signoffs"
        ),
        pk=pk,
    )


def _arrival_facts(arrival):
    signed = {s.role: s for s in arrival.signoffs.all()}
    facts = [
        (_("Material"), f"{arrival.material} {arrival.brand_model}".strip()),
        (_("Quantity"), f"{arrival.quantity} {arrival.unit}"),
        (_("Arrived on"), arrival.arrived_on.isoformat()),
    ]
    for role in MaterialArrival.REQUIRED_SIGNOFFS:
        signoff = signed.get(role)
        facts.append((SignoffRole(role).label, signoff.signed_name if signoff else _("not signed yet")))
    return facts


@permission_required(MANAGE)
def material_sign(request, pk):
    arrival = _arrival(pk)
    worksite = arrival.worksite
    roles = MaterialArrival.REQUIRED_SIGNOFFS
    signed = {s.role for s in arrival.signoffs.all()}
    initial = _sign_initial(request, roles, signed, worksite.project.customer.name)
    form = SignForm(_data(request), roles=roles, with_note=False, initial=initial)
    if request.method == "POST" and form.is_valid():
        signoff = _run(form, services.material_arrival_sign, arrival=arrival, user=request.user, **form.cleaned_data)
        if signoff:
            messages.success(request, _("Signed as %(role)s.") % {"role": signoff.get_role_display()})
            return redirect(_site_url(worksite.pk, f"material-{arrival.pk}"))
    return _form_page(
        request,
        worksite,
        _("Accept the delivery"),
        form,
        facts=_arrival_facts(arrival),
        submit=_("Sign"),
        anchor=f"material-{arrival.pk}",
    )


@permission_required(MANAGE)
def material_reject(request, pk):
    arrival = _arrival(pk)
    form = MaterialRejectForm(_data(request))
    if request.method == "POST" and form.is_valid():
        done = _run(form, services.material_arrival_reject, arrival=arrival, user=request.user, **form.cleaned_data)
        if done:
            messages.success(request, _("The delivery is rejected."))
            return redirect(_site_url(arrival.worksite_id, f"material-{arrival.pk}"))
    return _form_page(
        request,
        arrival.worksite,
        _("Reject the delivery"),
        form,
        facts=_arrival_facts(arrival),
        submit=_("Reject"),
        anchor=f"material-{arrival.pk}",
    )


# Site patrols ------------------------------------------------------------------------------------------------


@permission_required(MANAGE)
def patrol_create(request, pk):
    worksite = _worksite(pk)
    initial = {"patrolled_on": firm_today(), "role": PATROL_ROLE_OF.get(request.membership.role)}
    form = SitePatrolForm(_data(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        patrol = _run(
            form, services.site_patrol_record, worksite=worksite, patrolled_by=request.user, **form.cleaned_data
        )
        if patrol:
            return redirect(_site_url(worksite.pk, f"patrol-{patrol.pk}"))
    return _form_page(request, worksite, _("Record a site patrol"), form)


# Site problems ---------------------------------------------------------------------------------------------


@permission_required(MANAGE)
def problem_create(request, pk):
    worksite = _worksite(pk)
    form = SiteProblemForm(_data(request), worksite=worksite)
    solutions = SolutionFormSet(_data(request), prefix="solutions")
    if request.method == "POST" and form.is_valid() and solutions.is_valid():
        try:
            problem = services.site_problem_raise(
                worksite=worksite, raised_by=request.user, solutions=solutions.rows(), **form.cleaned_data
            )
        except ValidationError as error:
            if hasattr(error, "error_dict") and "solutions" in error.error_dict:
                solutions._non_form_errors = solutions.error_class(error.message_dict["solutions"])
            else:
                apply_service_errors(form, error)
        else:
            return redirect(_site_url(worksite.pk, f"problem-{problem.pk}"))
    return _form_page(request, worksite, _("Raise a site problem"), form, formset=solutions)


def _problem(pk):
    return get_object_or_404(
        SiteProblem.objects.select_related("worksite__project__customer", "worksite__contract").prefetch_related(
            "solutions"
        ),
        pk=pk,
    )


@permission_required(MANAGE)
def problem_choose(request, pk):
    problem = _problem(pk)
    worksite = problem.worksite
    form = ProblemChooseForm(_data(request), problem=problem, initial={"chosen_name": worksite.project.customer.name})
    if request.method == "POST" and form.is_valid():
        done = _run(form, services.site_problem_choose, problem=problem, user=request.user, **form.cleaned_data)
        if done:
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
    try:
        services.site_problem_resolve(problem=problem)
    except ValidationError as error:
        messages.error(request, f"{problem.title}: {' '.join(error.messages)}")
    else:
        messages.success(request, _("%(problem)s is resolved.") % {"problem": problem.title})
    return redirect(_site_url(problem.worksite_id, f"problem-{problem.pk}"))


urlpatterns = [
    path("<int:pk>/site/", site_log, name="site"),
    path("<int:pk>/inspections/new/", inspection_create, name="inspection-create"),
    path("inspections/<int:pk>/sign/", inspection_sign, name="inspection-sign"),
    path("inspections/<int:pk>/result/", inspection_result, name="inspection-result"),
    path("inspections/<int:pk>/circuit-diagram/", inspection_circuit_diagram, name="inspection-circuit-diagram"),
    path("<int:pk>/materials/new/", material_create, name="material-create"),
    path("materials/<int:pk>/sign/", material_sign, name="material-sign"),
    path("materials/<int:pk>/reject/", material_reject, name="material-reject"),
    path("<int:pk>/patrols/new/", patrol_create, name="patrol-create"),
    path("<int:pk>/problems/new/", problem_create, name="problem-create"),
    path("problems/<int:pk>/choose/", problem_choose, name="problem-choose"),
    path("problems/<int:pk>/resolve/", problem_resolve, name="problem-resolve"),
]
