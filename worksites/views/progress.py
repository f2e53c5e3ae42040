"""The worksite's progress feed, with the phone form a foreman posts photos and videos from."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renocrm.accounts.access import permission_required
from renocrm.forms import page_action, submit
from renocrm.paging import before_param
from worksites.forms.progress import ProgressForm
from worksites.models import ProgressUpdate, Worksite
from worksites.selectors import progress as selectors
from worksites.services import progress as services
from worksites.views.offline import note_refusal, offline_capture

VIEW, MANAGE = "worksites.view", "worksites.manage"


def _progress_form(request, worksite):
    return ProgressForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        phases=worksite.phases.all(),
        current=selectors.progress_current_phase(worksite=worksite),
    )


@offline_capture
@permission_required(VIEW, to_post=MANAGE)
def worksite_progress(request, pk):
    worksite = get_object_or_404(Worksite.objects.select_related("project__customer"), pk=pk)
    may_manage = request.membership.has_perm(MANAGE)
    form = _progress_form(request, worksite) if may_manage else None
    if form is not None and submit(
        request, form, lambda data: services.progress_post(worksite=worksite, posted_by=request.user, **data)
    ):
        messages.success(request, _("Progress update posted."))
        return redirect("worksites:progress", pk=worksite.pk)
    note_refusal(request, form)
    before = before_param(request)
    updates, older = selectors.progress_feed(worksite=worksite, homeowner_view=False, before=before)
    context = {
        "worksite": worksite,
        "form": form,
        "updates": updates,
        "older": older,
        "before": before,
        "may_manage": may_manage,
        "handed_over": worksite.status == Worksite.Status.HANDED_OVER,
        "firm_zone": request.tenant.zone,
    }
    return render(request, "worksites/progress.html", context)


@require_POST
@permission_required(MANAGE)
def progress_visibility(request, pk):
    """Show an update to the homeowner or hide it; back to the same page of the feed."""
    update = get_object_or_404(ProgressUpdate, pk=pk)
    visible = request.POST.get("visible") == "1"
    url = reverse("worksites:progress", args=[update.worksite_id])
    before = request.POST.get("before", "")
    return page_action(
        request,
        lambda: services.progress_update_set_visibility(update=update, visible=visible),
        done=_("The homeowner can see this update again.")
        if visible
        else _("This update is hidden from the homeowner."),
        back=f"{url}{'?before=' + before if before.isdigit() else ''}#update-{update.pk}",
    )
