"""The agenda as an iCalendar feed (RFC 5545) for a phone's calendar app: one event per agenda item, with a
UID that stays the same while the record lives (the app updates the event instead of adding another), the
firm's time zone as a VTIMEZONE, and a refresh interval of a few minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import icalendar
from django.utils import timezone
from django.utils.translation import gettext as _

from .agenda import Item

# How often a calendar app should fetch the feed again (most follow these hints; some poll on their own).
REFRESH = timedelta(minutes=15)


def _host(base_url: str) -> str:
    return urlsplit(base_url).hostname or "renocrm"


def calendar(items: list[Item], *, firm, name: str, base_url: str, now: datetime | None = None) -> bytes:
    """The feed of ``items`` (firm-local), its links absolute under ``base_url``."""
    now = now or timezone.now()
    host = _host(base_url)
    feed = icalendar.Calendar()
    feed.add("prodid", "-//RenoCRM//Agenda//EN")
    feed.add("version", "2.0")
    feed.add("calscale", "GREGORIAN")
    feed.add("method", "PUBLISH")
    feed.add("x-wr-calname", name)
    feed.add("x-wr-timezone", firm.time_zone)
    feed.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    feed.add("x-published-ttl", REFRESH)
    # Every time given in the firm's zone, which travels with the feed (phones need not know it).
    feed.add_component(icalendar.Timezone.from_tzid(firm.time_zone))
    stamp = now.astimezone(UTC)
    for item in items:
        event = icalendar.Event()
        # The firm is part of the UID: one person's feeds of two firms never share an event.
        event.add("uid", f"{item.uid}.{firm.pk}@{host}")
        event.add("dtstamp", stamp)
        if item.all_day:
            event.add("dtstart", item.day)
            event.add("dtend", item.day + timedelta(days=1))
        else:
            event.add("dtstart", item.at)
            event.add("dtend", item.at + timedelta(minutes=item.minutes))
        event.add("summary", item.title)
        if item.place:
            event.add("location", item.place)
        url = f"{base_url}{item.path}"
        event.add("url", url)
        lines = [item.kind_label]
        if item.people:
            lines.append(_("Staff: %(names)s") % {"names": ", ".join(item.people)})
        lines.append(url)
        event.add("description", "\n".join(lines))
        event.add("categories", [item.kind_label])
        event.add("transp", "TRANSPARENT" if item.all_day else "OPAQUE")
        feed.add_component(event)
    return feed.to_ical()
