"""The finance cards: contracts signed in the period by package, and instalments overdue or falling due, each
figure linked to the receivables page showing exactly its instalments."""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _

from contracts import receivables
from contracts import selectors as contracts
from renocrm.periods import Period

from ..charts import VBAR
from .cards import Card, ChartSpec, Figure, count, money, url

INSTALMENT_DAYS = receivables.DUE_WITHIN_DAYS


def signed_between(period: Period) -> dict:
    """The contract list's own date filter for the period."""
    return {"signed_from": period.start.isoformat(), "signed_to": period.end.isoformat()}


def finance(*, user, period: Period, today: date) -> list[Card]:
    signed = contracts.contracts_signed(start=period.start, end=period.end)
    packages = contracts.contracts_signed_by_package(start=period.start, end=period.end)
    # The receivables page's own selection and bucket rule, so each figure counts exactly the rows it links to.
    due = receivables.outstanding_totals(receivables.instalments_outstanding(), today=today)
    overdue, upcoming = due[receivables.OVERDUE], due[receivables.DUE]
    between = signed_between(period)
    overdue_list = url("dashboard:receivables", bucket=receivables.OVERDUE)
    due_list = url("dashboard:receivables", bucket=receivables.DUE)
    return [
        contracts_card(signed, packages, period, between),
        Card(
            key="instalments",
            title=_("Instalments"),
            stage="contracts",
            figures=[
                Figure(
                    _("Overdue"),
                    overdue["count"],
                    overdue_list,
                    key="instalments-overdue",
                    tone="warn" if overdue["count"] else "",
                ),
                Figure(
                    _("Overdue amount"),
                    overdue["amount"],
                    overdue_list,
                    money(overdue["amount"]),
                    key="instalments-overdue-amount",
                ),
                Figure(
                    _("Due within %(days)s days") % {"days": INSTALMENT_DAYS},
                    upcoming["count"],
                    due_list,
                    key="instalments-due",
                ),
                Figure(
                    _("Amount falling due"),
                    upcoming["amount"],
                    due_list,
                    money(upcoming["amount"]),
                    key="instalments-due-amount",
                ),
            ],
            more=(_("Receivables"), url("dashboard:receivables")),
        ),
    ]


def contracts_card(signed, packages, period: Period, between: dict) -> Card:
    return Card(
        key="contracts",
        title=_("Contracts signed"),
        stage="contracts",
        in_period=True,
        figures=[
            count("contracts-signed", _("Contracts signed"), signed["count"], url("contracts:list", **between)),
            Figure(
                _("Signed amount"),
                signed["amount"],
                url("contracts:list", **between),
                money(signed["amount"]),
                key="contracts-amount",
            ),
        ],
        charts=[
            ChartSpec(
                VBAR,
                _("Signed amount by package"),
                [
                    Figure(
                        str(row["label"]),
                        row["amount"],
                        url("contracts:list", package_type=row["package_type"], **between),
                        f"{money(row['amount'])} ({row['count']})",
                        key=f"package-{row['package_type']}",
                    )
                    for row in packages
                ],
            )
        ],
    )
