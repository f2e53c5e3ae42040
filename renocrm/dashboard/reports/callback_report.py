"""The callback report: the period's callbacks planned and done, satisfaction, NPS, defects per trade, the
homeowners' suggestions and the callbacks overdue or unreachable."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from callbacks import selectors as callback_selectors
from callbacks.models import Callback, SurveyDefect
from renocrm.periods import Period
from renocrm.tenancy.context import require_current_tenant

from ..exports import DATE, INTEGER, NUMBER, PERCENT, Column, ContactCell, Table
from .tables import Viewer, share


def _local_date(moment: datetime | None) -> date | None:
    return timezone.localtime(moment, require_current_tenant().zone).date() if moment else None


def callback_tables(period: Period, viewer: Viewer) -> list[Table]:
    start, end = period.start, period.end
    stats = callback_selectors.callback_stats(start, end)
    distribution = callback_selectors.satisfaction_distribution(start, end)
    nps = callback_selectors.nps(start, end)
    defects = callback_selectors.defects_by_trade(start, end)
    suggestions = callback_selectors.survey_suggestions(start, end)
    attention = callback_selectors.callbacks_needing_attention(start, end)

    summary = Table(
        _("Summary"),
        [Column(gettext_lazy("Figure")), Column(gettext_lazy("Value"), NUMBER)],
        [
            [_("Planned callbacks"), stats["planned"]],
            [_("Done"), stats["done"]],
            [_("Unreachable"), stats["unreachable"]],
            [_("Overdue"), stats["overdue"]],
            [_("Cancelled"), stats["cancelled"]],
            [_("Completion rate (%)"), stats["completion_rate"]],
            [_("Surveys answered"), distribution["total"]],
            [_("Satisfied (%)"), distribution["satisfied_share"]],
            [_("Net promoter score"), nps["score"]],
        ],
    )
    satisfaction = Table(
        _("Satisfaction"),
        [Column(gettext_lazy("Overall satisfaction")), Column(gettext_lazy("Answers"), INTEGER), Column("%", PERCENT)],
        [[level["label"], level["count"], level["share"]] for level in distribution["levels"]],
        total=[_("Total"), distribution["total"], 100.0 if distribution["total"] else None],
    )
    promoters = Table(
        _("Net promoter score"),
        [Column(gettext_lazy("Answer")), Column(gettext_lazy("Answers"), INTEGER), Column("%", PERCENT)],
        [
            [_("Promoters (9–10)"), nps["promoters"], share(nps["promoters"], nps["answers"])],
            [_("Passives (7–8)"), nps["passives"], share(nps["passives"], nps["answers"])],
            [_("Detractors (0–6)"), nps["detractors"], share(nps["detractors"], nps["answers"])],
        ],
        total=[_("Total"), nps["answers"], 100.0 if nps["answers"] else None],
    )
    kinds = list(SurveyDefect.Kind)
    defect_table = Table(
        _("Defects per trade"),
        [Column(gettext_lazy("Trade"))]
        + [Column(kind.label, INTEGER) for kind in kinds]
        + [Column(gettext_lazy("Total"), INTEGER)],
        [[trade["label"], *(trade["kinds"].get(kind.value, 0) for kind in kinds), trade["count"]] for trade in defects],
        total=[_("Total"), *(sum(t["kinds"].get(kind.value, 0) for t in defects) for kind in kinds)]
        + [sum(t["count"] for t in defects)],
        empty=_("No defects reported in this period."),
    )
    suggestion_table = Table(
        _("Top suggestions"),
        [
            Column(gettext_lazy("Suggestion")),
            Column(gettext_lazy("Times given"), INTEGER),
            Column(gettext_lazy("Latest"), DATE),
        ],
        [[viewer.text(row["text"]), row["count"], _local_date(row["latest"])] for row in suggestions],
        empty=_("No suggestions in this period."),
    )
    status_label = {Callback.Status.UNREACHABLE: _("Unreachable")}
    attention_table = Table(
        _("Overdue and unreachable callbacks"),
        [
            Column(gettext_lazy("Status")),
            Column(gettext_lazy("Due on"), DATE),
            Column(gettext_lazy("Callback")),
            Column(gettext_lazy("Customer")),
            Column(gettext_lazy("Mobile")),
            Column(gettext_lazy("Agent")),
            Column(pgettext_lazy("callback", "Attempts"), INTEGER),
        ],
        [
            [
                status_label.get(callback.status, _("Overdue")),
                callback.due_on,
                callback.name,
                callback.customer.name,
                ContactCell(callback.customer, "mobile", viewer.mobile(callback.customer.mobile)),
                str(callback.assigned_to) if callback.assigned_to else "",
                callback.attempts,
            ]
            for callback in attention
        ],
        empty=_("No callback of this period is overdue or unreachable."),
    )
    return [summary, satisfaction, promoters, defect_table, suggestion_table, attention_table]
