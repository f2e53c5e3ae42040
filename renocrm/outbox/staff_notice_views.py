"""A staff member's notices in the app: the bell's count (polled by the page), the list, and marking them
read. Each person sees only their own: anyone else's notice answers 404, as a missing one does."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from renocrm.accounts.access import permission_required
from renocrm.paging import before_param
from renocrm.privacy.masking import mask_text, may_see_contacts
from renocrm.sessions import passive

from . import selectors, staff_notices
from .models import StaffNotice

# Every member reads their own notices, whatever their roles.
VIEW = "dashboard.view"
# htmx stops polling on this status (and empties the badge): signed out, or no longer in the firm.
STOP_POLLING = 286


def _own(request, pk: int) -> StaffNotice:
    try:
        return selectors.staff_notice_get(user=request.user, pk=pk)
    except StaffNotice.DoesNotExist:
        raise Http404 from None


def _safe(request, url: str) -> str | None:
    allowed = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if url and allowed else None


@permission_required(VIEW)
def notice_list(request):
    unread_only = request.GET.get("unread") == "1"
    notices, older = selectors.staff_notice_page(
        user=request.user, before=before_param(request), unread=True if unread_only else None
    )
    if not may_see_contacts(request):
        # A notice may quote a homeowner's mobile; those not entitled to it see it masked, as everywhere.
        for notice in notices:
            notice.subject, notice.body = mask_text(notice.subject), mask_text(notice.body)
    context = {
        "notices": notices,
        "older": older,
        "unread_only": unread_only,
        "unread_count": selectors.staff_notice_unread_count(user=request.user),
        "limit": selectors.UNREAD_COUNT_LIMIT,
    }
    return render(request, "outbox/notice_list.html", context)


@passive
@require_GET
def notice_badge(request):
    """The bell's count alone, for the page to poll: not activity (the idle session still ends), never a
    redirect to sign in (which the page would paste into the bell)."""
    if not request.user.is_authenticated or getattr(request, "membership", None) is None:
        return HttpResponse(status=STOP_POLLING)
    count = selectors.staff_notice_unread_count(user=request.user)
    response = render(request, "outbox/_notice_count.html", {"count": count, "limit": selectors.UNREAD_COUNT_LIMIT})
    add_never_cache_headers(response)
    return response


@permission_required(VIEW)
@require_POST
def notice_open(request, pk):
    """Mark the notice read and go to the page it is about (the list when it names none)."""
    notice = staff_notices.staff_notice_read(notice=_own(request, pk))
    return redirect(_safe(request, notice.link) or "notices:list")


@permission_required(VIEW)
@require_POST
def notice_read(request, pk):
    staff_notices.staff_notice_read(notice=_own(request, pk))
    return redirect(_safe(request, request.POST.get("next", "")) or "notices:list")


@permission_required(VIEW)
@require_POST
def notice_read_all(request):
    count = staff_notices.staff_notices_read_all(user=request.user)
    if count:
        messages.success(request, _("All notices marked read."))
    return redirect(_safe(request, request.POST.get("next", "")) or "notices:list")
