"""The finance cards: contracts signed in the period by package, and instalments overdue or falling due."""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _

from contracts import selectors as contracts
from renocrm.periods import Period

from ..charts import VBAR
from .cards import Card, ChartSpec, Figure, count, money, url

INSTALMENT_DAYS = 30


def signed_between(period: Period) -> dict:
    """The contract list's own date filter for the period."""
    return {"signed_from": period.start.isoformat(), "signed_to": period.end.isoformat()}


def finance(*, user, period: Period, today: date) -> list[Card]:
    signed = contracts.contracts_signed(start=period.start, end=period.end)
    packages = contracts.contracts_signed_by_package(start=period.start, end=period.end)
    due = contracts.instalments_due(today=today, within_days=INSTALMENT_DAYS)
    between = signed_between(period)
    # The contract list has no instalment filter: the instalment figures lead to the contracts, which show
    # what each still has to pay.
    contract_list = url("contracts:list")
    return [
        contracts_card(signed, packages, period, between),
        Card(
            key="instalments",
            title=_("Instalments"),
            stage="contracts",
            figures=[
                Figure(
                    _("Overdue"),
                    due["overdue"],
                    contract_list,
                    key="instalments-overdue",
                    tone="warn" if due["overdue"] else "",
                ),
                Figure(
                    _("Overdue amount"),
                    due["overdue_amount"],
                    contract_list,
                    money(due["overdue_amount"]),
                    key="instalments-overdue-amount",
                ),
                Figure(
                    _("Due within %(days)s days") % {"days": INSTALMENT_DAYS},
                    due["upcoming"],
                    contract_list,
                    key="instalments-due",
                ),
                Figure(
                    _("Amount falling due"),
                    due["upcoming_amount"],
                    contract_list,
                    money(due["upcoming_amount"]),
                    key="instalments-due-amount",
                ),
            ],
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
