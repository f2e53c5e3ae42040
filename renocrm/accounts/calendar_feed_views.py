"""Making and revoking one's private calendar address, from the profile page. The address is shown once, on
the page that answers the POST that made it (only its digest is kept)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .access import permission_required
from .calendar_feeds import calendar_feed_create, calendar_feed_revoke

# Everyone with a dashboard has an agenda.
PERMISSION = "dashboard.view"


def _profile() -> str:
    return reverse("accounts:profile") + "#calendar-feed"


@require_POST
@permission_required(PERMISSION)
def calendar_feed_new(request):
    _feed, token = calendar_feed_create(user=request.user)
    url = settings.SITE_URL + reverse("dashboard:calendar-feed", args=[token])
    scheme, _sep, rest = url.partition("://")
    context = {"url": url, "webcal_url": f"webcal://{rest}" if scheme in ("http", "https") else url}
    response = render(request, "accounts/calendar_feed_created.html", context)
    add_never_cache_headers(response)
    return response


@require_POST
@permission_required(PERMISSION)
def calendar_feed_stop(request):
    if calendar_feed_revoke(user=request.user):
        messages.success(
            request, _("Your calendar address is revoked: calendars subscribed to it get no more updates.")
        )
    return redirect(_profile())
