"""Adding photos or videos to a site problem or an inspection from its card on the site page (a phone's
camera roll or camera); a refusal names the file and comes back as a message on the page."""

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from renocrm.accounts.access import permission_required
from renocrm.forms import page_action
from worksites.models import Inspection, SiteProblem
from worksites.services import media as services

MANAGE = "worksites.manage"


def _add(request, subject, anchor: str):
    def added(stored) -> str:
        return ngettext("%(count)d file added.", "%(count)d files added.", len(stored)) % {"count": len(stored)}

    return page_action(
        request,
        lambda: services.site_media_add(
            subject=subject, files=request.FILES.getlist("files"), uploaded_by=request.user
        ),
        done=added,
        about=_("Photos"),
        back=reverse("worksites:site", args=[subject.worksite_id]) + f"#{anchor}",
    )


@require_POST
@permission_required(MANAGE)
def problem_media_add(request, pk):
    problem = get_object_or_404(SiteProblem, pk=pk)
    return _add(request, problem, f"problem-{problem.pk}")


@require_POST
@permission_required(MANAGE)
def inspection_media_add(request, pk):
    inspection = get_object_or_404(Inspection, pk=pk)
    return _add(request, inspection, f"inspection-{inspection.pk}")
