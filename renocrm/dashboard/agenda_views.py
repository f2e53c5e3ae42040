"""The agenda page (a day or a week, for a phone as for a desk) and the private calendar feed."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from renocrm.accounts.access import permission_required
from renocrm.accounts.calendar_feeds import feed_find, feed_owner
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.time import firm_today

from . import ics
from .agenda import (
    DAY,
    FIRST_DAY,
    LAST_DAY,
    ME,
    WEEK,
    UnknownMember,
    by_day,
    gather,
    resolve_scope,
    team_of,
    week_of,
)
from .selectors.cards import url

# The feed's window: what a phone shows of the past and the future.
FEED_DAYS_BACK = 30
FEED_DAYS_AHEAD = 90
# A calendar app may keep the feed this long: changes reach the phone within minutes.
FEED_MAX_AGE = 300


def _day(value: str, default: date) -> date:
    """The day asked for; ``default`` for none, one that is not a date, or one outside the agenda's days."""
    try:
        day = date.fromisoformat(value) if value else default
    except ValueError:
        return default
    return day if FIRST_DAY <= day <= LAST_DAY else default


@require_safe
@permission_required("dashboard.view")
def agenda(request):
    """``?view=day|week&day=YYYY-MM-DD&who=me|team|<member id>``: today's items by default."""
    membership = request.membership
    today = firm_today()
    view = WEEK if request.GET.get("view") == WEEK else DAY
    day = _day(request.GET.get("day", ""), today)
    team = team_of(membership)
    try:
        scope = resolve_scope(membership, request.GET.get("who", ""), team=team)
    except UnknownMember:
        raise Http404 from None
    start, end = (day, day) if view == DAY else week_of(day)
    items = gather(membership=membership, staff=scope.staff, start=start, end=end)
    step = timedelta(days=1 if view == DAY else 7)
    who = "" if scope.choice == ME else scope.choice

    def link(**changes) -> str:
        params = {"view": view, "day": day.isoformat(), "who": who, **changes}
        if params["view"] == DAY:
            params.pop("view")
        if params["day"] == today.isoformat():
            params.pop("day")
        return url("dashboard:agenda", **params)

    context = {
        "view": view,
        "day": day,
        "today": today,
        "start": start,
        "end": end,
        "days": [
            {"date": date_, "items": found, "url": link(view=DAY, day=date_.isoformat())}
            for date_, found in by_day(items, start, end)
        ],
        "count": len(items),
        "scope": scope,
        "team": team,
        "mine": scope.choice == ME,
        "who": who,
        "previous_url": link(day=(day - step).isoformat()),
        "next_url": link(day=(day + step).isoformat()),
        "today_url": link(day=today.isoformat()),
        "day_url": link(view=DAY),
        "week_url": link(view=WEEK),
    }
    return render(request, "dashboard/agenda.html", context)


@require_safe
def calendar_feed(request, token):
    """The agenda of the address's owner in its firm, from a month back to three months ahead, as iCalendar.
    Public (a calendar app has no session): an unknown or revoked address is a 404 like any missing page."""
    found = feed_find(token)
    if found is None:
        raise Http404
    firm, feed_id = found
    with tenant_context(firm, request_id=f"calendar-feed:{feed_id}"), timezone.override(firm.zone):
        owner = feed_owner(feed_id)
        if owner is None:
            raise Http404
        feed, membership = owner
        today = firm_today()
        start, end = today - timedelta(days=FEED_DAYS_BACK), today + timedelta(days=FEED_DAYS_AHEAD)
        with translation.override(feed.user.language or firm.language):
            items = gather(membership=membership, staff=[feed.user_id], start=start, end=end)
            name = _("%(firm)s · %(name)s") % {"firm": firm.display_name, "name": feed.user}
            body = ics.calendar(items, firm=firm, name=name, base_url=settings.SITE_URL)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = f"private, max-age={FEED_MAX_AGE}"
    response["Content-Disposition"] = 'inline; filename="agenda.ics"'
    # The address is the credential: no page it is opened from should learn it.
    response["Referrer-Policy"] = "no-referrer"
    return response
