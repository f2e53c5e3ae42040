from pathlib import PurePosixPath

from django.conf import settings as django_settings
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renocrm.accounts.access import permission_required
from renocrm.forms import submit
from renocrm.paging import before_param

from . import exports, selectors, services
from .forms import RetentionForm
from .masking import CONTACTS_PERMISSION, revealable
from .models import FirmExport

# The firm's personal-data page is for its admins.
MANAGE = "firm.manage"


@require_POST
@permission_required(CONTACTS_PERMISSION)
def reveal(request, record_type: str, pk: int, field: str):
    """Show one record's full contact field, and record who looked."""
    registered = revealable(record_type)
    if registered is None or field not in registered.fields:
        raise Http404
    record = get_object_or_404(registered.model.objects.all(), pk=pk)
    value = services.contact_reveal(
        record=record, field=field, user=request.user, page=request.headers.get("Referer", "")
    )
    return render(
        request,
        "privacy/_revealed.html",
        {"value": value, "kind": registered.fields[field], "record_type": record_type, "pk": pk, "field": field},
    )


@permission_required(MANAGE)
def home(request):
    """The retention rule, the firm's full exports, the log of homeowners' requests and who looked at which
    contact details."""
    settings = selectors.privacy_settings()
    form = RetentionForm(request.POST or None, instance=settings)
    if submit(request, form, lambda data: services.privacy_settings_update(**data)):
        messages.success(request, _("The retention rule is saved."))
        return redirect("privacy:home")
    exports_page, older_exports = selectors.firm_export_page(before=before_param(request, "exports_before"))
    requests, older_requests = selectors.data_request_page(before=before_param(request, "requests_before"))
    reveals, older = selectors.contact_reveal_page(before=before_param(request))
    selectors.privacy_log_describe(requests=requests, reveals=reveals)
    context = {
        "form": form,
        "exports": exports_page,
        "older_exports": older_exports,
        "requests": requests,
        "older_requests": older_requests,
        "reveals": reveals,
        "older": older,
        "firm_zone": request.tenant.zone,
        "export_retention_days": django_settings.PERSONAL_EXPORT_RETENTION_DAYS,
    }
    return render(request, "privacy/home.html", context)


@require_POST
@permission_required(MANAGE)
def export_start(request):
    exports.firm_export_start(by=request.user)
    messages.success(request, _("The export is being built; it appears in the list when it is ready."))
    return redirect("privacy:home")


@permission_required(MANAGE)
def export_download(request, pk: int):
    export = get_object_or_404(FirmExport.objects, pk=pk)
    if export.is_expired:
        # Past its retention the file is deleted (or is about to be, by the next sweep): never handed out.
        messages.error(
            request,
            _("This export has expired: its file is deleted %(days)s days after it was built. Start a new one.")
            % {"days": django_settings.PERSONAL_EXPORT_RETENTION_DAYS},
        )
        return redirect("privacy:home")
    if export.status != FirmExport.Status.DONE or not export.archive:
        messages.error(request, _("This export is not ready to download."))
        return redirect("privacy:home")
    return FileResponse(export.archive.open("rb"), as_attachment=True, filename=PurePosixPath(export.archive.name).name)
