"""Lifting a construction gate on one worksite (firm admins, with a reason) and the firm's gate settings."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renocrm.accounts.access import permission_required
from renocrm.forms import page_action, submit
from worksites.forms.gates import ConstructionSettingsForm, GateOverrideForm
from worksites.models import Worksite
from worksites.services import gates as services

# Lifting a gate is the firm admin's alone, like the firm's settings.
LIFT = "firm.manage"


@require_POST
@permission_required(LIFT)
def gate_lift(request, pk):
    worksite = get_object_or_404(Worksite, pk=pk)
    return page_action(
        request,
        lambda data: services.gate_override(worksite=worksite, by=request.user, **data),
        form=GateOverrideForm(request.POST),
        done=_("The gate is lifted; the reason is kept on the worksite."),
        about=_("Gate"),
        back=reverse("worksites:detail", args=[worksite.pk]) + "#gates",
    )


@permission_required("worksites.view", to_post=LIFT)
def construction_settings_edit(request):
    current = services.construction_settings_get()
    initial = {field: getattr(current, field) for field in ConstructionSettingsForm.base_fields}
    form = ConstructionSettingsForm(request.POST or None, initial=initial)
    if submit(request, form, lambda data: services.construction_settings_update(**data)):
        messages.success(request, _("The construction settings are saved."))
        return redirect("worksites:construction-settings")
    context = {"form": form, "title": _("Construction gates"), "back_url": reverse("worksites:template")}
    return render(request, "form_page.html", context)
