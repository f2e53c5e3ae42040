"""The customer-service cards: my callback queue, the period's callback completion, the complaint clocks
and the repairs past their SLA."""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from aftercare import selectors as aftercare
from callbacks import selectors as callbacks
from callbacks.selectors import ALL as ALL_AGENTS
from complaints import selectors as complaints
from renocrm.periods import Period

from ..charts import DONUT
from .cards import CHECKED, PRESSING, Card, ChartSpec, Figure, Row, count, percent, url


def repairs_late_count() -> int:
    return aftercare.repairs_overdue(now=timezone.now()).count()


def customer_service(*, user, period: Period, today: date) -> list[Card]:
    queue = callbacks.queue_counts(agent=user)
    stats = callbacks.callback_stats(period.start, period.end)
    sla = complaints.open_complaints_sla(limit=PRESSING)
    repairs_late = repairs_late_count()
    return [
        Card(
            key="callbacks",
            title=_("My callbacks"),
            stage="callbacks",
            figures=[
                count("callbacks-due", _("Due today"), queue["due_today"], url("callbacks:list", bucket="due_today")),
                count(
                    "callbacks-overdue",
                    _("Overdue"),
                    queue["overdue"],
                    url("callbacks:list", bucket="overdue"),
                    warn=True,
                ),
            ],
            more=(_("Callback queue"), url("callbacks:list")),
        ),
        _callback_completion_card(stats),
        Card(
            key="complaints",
            title=_("Open complaints"),
            stage="complaints",
            figures=[
                count(
                    "complaints-overdue",
                    _("Clock run out"),
                    sla["counts"][complaints.SlaState.OVERDUE],
                    url("complaints:list", status="active", overdue=CHECKED),
                    warn=True,
                ),
                count(
                    "complaints-due-soon",
                    _("Due within the hour"),
                    sla["counts"][complaints.SlaState.DUE_SOON],
                    url("complaints:board"),
                ),
                count(
                    "complaints-on-time",
                    _("On time"),
                    sla["counts"][complaints.SlaState.ON_TIME],
                    url("complaints:list", status="active"),
                ),
            ],
            rows=[
                Row(
                    label=f"#{complaint.pk} {complaint.customer.name}",
                    href=url("complaints:detail", complaint.pk),
                    meta=str(complaint.owner or "—"),
                    tone="warn",
                    clock=complaint.clock,
                    record=complaint,
                )
                for complaint in sla["complaints"]
            ],
            rows_title=_("Most urgent clocks"),
            body="dashboard/_complaint_rows.html",
            more=(_("Complaint board"), url("complaints:board")),
        ),
        Card(
            key="repairs",
            title=_("Repairs"),
            stage="aftercare",
            figures=[
                count(
                    "repairs-late", _("Past their SLA"), repairs_late, url("aftercare:list", overdue=CHECKED), warn=True
                )
            ],
            more=(_("Repair requests"), url("aftercare:list", status="open_all")),
        ),
    ]


def _callback_completion_card(stats: dict) -> Card:
    """The period's callbacks: how many of the planned were done, as a rate and a ring by outcome."""
    done, unreachable, overdue = stats["done"], stats["unreachable"], stats["overdue"]
    waiting = max(stats["planned"] - done - unreachable - overdue, 0)
    return Card(
        key="completion",
        title=_("Callback completion"),
        stage="callbacks",
        in_period=True,
        figures=[
            Figure(
                _("Completion rate"),
                stats["completion_rate"] or 0,
                url("callbacks:list", bucket="done", agent=ALL_AGENTS),
                percent(stats["completion_rate"]),
                key="completion-rate",
            ),
            count(
                "callbacks-planned",
                pgettext("callbacks", "Planned"),
                stats["planned"],
                url("callbacks:list", agent=ALL_AGENTS),
            ),
        ],
        charts=[
            ChartSpec(
                DONUT,
                _("Callbacks due in the period"),
                [
                    count("outcome-done", _("Completed"), done, url("callbacks:list", bucket="done", agent=ALL_AGENTS)),
                    count(
                        "outcome-unreachable",
                        _("Unreachable"),
                        unreachable,
                        url("callbacks:list", bucket="done", agent=ALL_AGENTS),
                    ),
                    count(
                        "outcome-overdue",
                        _("Overdue"),
                        overdue,
                        url("callbacks:list", bucket="overdue", agent=ALL_AGENTS),
                        warn=True,
                    ),
                    count(
                        "outcome-waiting",
                        _("Not due yet or in hand"),
                        waiting,
                        url("callbacks:list", bucket="upcoming", agent=ALL_AGENTS),
                    ),
                ],
                total_text=str(stats["planned"]),
            )
        ],
    )
