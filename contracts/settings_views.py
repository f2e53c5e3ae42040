"""The firm admin's contract settings page: payment schedule, change orders, quotation defaults and SMS
reminders, saved at once (``services.settings``)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from renocrm.accounts.access import permission_required
from renocrm.forms import submit

from .services import settings as services
from .settings_forms import ContractSettingsForm


@permission_required("firm.manage")
def contract_settings(request):
    current = services.contract_settings_get()
    initial = {name: getattr(current, name) for name in services.SETTINGS_FIELDS}
    form = ContractSettingsForm(request.POST or None, initial=initial)
    if submit(
        request,
        form,
        lambda data: services.contract_settings_update(**data),
        check=lambda data: services.contract_settings_check(**data),
    ):
        messages.success(request, _("Contract settings saved; new contracts, quotations and reminders use them."))
        return redirect("contracts:settings")
    return render(request, "contracts/settings.html", {"form": form})
