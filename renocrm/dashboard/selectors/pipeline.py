"""The sales cards: the pipeline by status, my follow-ups, and the period's conversion by channel."""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _

from leads import selectors as leads
from leads.models import Lead
from renocrm.periods import Period

from ..charts import HBAR
from .cards import Card, ChartSpec, Figure, count, percent, url


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def sales(*, user, period: Period, today: date) -> list[Card]:
    pipeline = leads.pipeline_counts()
    labels = dict(Lead.Status.choices)
    follow_ups = leads.follow_up_counts(user=user, on=today)
    funnel = leads.lead_funnel(start=period.start, end=period.end)
    created = sum(row["created"] for row in funnel)
    won = sum(row["won"] for row in funnel)
    active = [row for row in funnel if row["created"]]
    return [
        Card(
            key="pipeline",
            title=_("Pipeline"),
            stage="leads",
            charts=[
                ChartSpec(
                    HBAR,
                    _("Leads by status"),
                    [
                        count(f"status-{status}", labels[status], pipeline[status], url("leads:list", status=status))
                        for status in Lead.Status.values
                    ],
                )
            ],
            more=(_("Pipeline board"), url("leads:board")),
        ),
        Card(
            key="follow-ups",
            title=_("My follow-ups"),
            stage="leads",
            figures=[
                count(
                    "follow-ups-due",
                    _("Due today"),
                    follow_ups["due"],
                    url("leads:follow-ups", anchor="due-heading"),
                ),
                count(
                    "follow-ups-overdue",
                    _("Overdue"),
                    follow_ups["overdue"],
                    url("leads:follow-ups", anchor="overdue-heading"),
                    warn=True,
                ),
            ],
            more=(_("Follow-ups"), url("leads:follow-ups")),
        ),
        Card(
            key="conversion",
            title=_("Conversion by channel"),
            stage="leads",
            in_period=True,
            figures=[
                count("leads-created", _("Leads created"), created, url("leads:list")),
                count("leads-won", _("Won"), won, url("leads:list", status=Lead.Status.WON)),
                Figure(
                    _("Win rate"),
                    _rate(won, created) or 0,
                    url("leads:list", status=Lead.Status.WON),
                    percent(_rate(won, created)),
                    key="win-rate",
                ),
            ],
            charts=[
                ChartSpec(
                    HBAR,
                    _("Leads created by channel"),
                    [
                        Figure(
                            row["label"],
                            row["created"],
                            url("leads:list", channel=row["channel"]),
                            _("%(created)s · %(won)s won · %(rate)s")
                            % {
                                "created": row["created"],
                                "won": row["won"],
                                "rate": percent(None if row["win_rate"] is None else 100 * row["win_rate"]),
                            },
                            key=f"channel-{row['channel']}",
                        )
                        for row in active
                    ],
                )
            ],
        ),
    ]
