"""Finance's receivables and payment register: contracts' instalments (``contracts.receivables``) joined with
construction's project managers (``worksites.selectors.schedule``), for the pages, their downloads and the API.

Each list is one keyset page in the order finance reads it (the oldest debt first; the latest payment first),
and its totals come from one aggregate over the whole selection, never from the rows on the page, so a
dashboard figure and the page it links to count the same rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from contracts import receivables as ledger
from contracts.models import Instalment
from renocrm.paging import PAGE_SIZE
from worksites.selectors.schedule import project_managers, projects_managed_by

from .exports import DATE, INTEGER, MONEY, Column, Table

# How a page groups its totals: by project, by the lead's designer or by the worksite's project manager.
PROJECT, DESIGNER, PM = "project", "designer", "pm"
GROUPINGS = ((PROJECT, _("Project")), (DESIGNER, _("Designer")), (PM, _("Project manager")))


@dataclass(frozen=True)
class Filters:
    """The receivables a page, a download or the API shows: everything outstanding by default."""

    bucket: str = ""  # one of contracts.receivables.BUCKETS
    designer: object = None  # the lead's designer (a user)
    pm: object = None  # the worksite's project manager (a user)
    project: object = None  # one project (or its id)
    q: str = ""  # the customer's name or mobile, or the contract number
    full_contacts: bool = False  # whether ``q`` may find a mobile by the digits its mask hides


def _projects_of(pm):
    return projects_managed_by(user=pm) if pm is not None else None


def outstanding(filters: Filters, *, today: date, bucket: bool = True) -> QuerySet:
    """The outstanding instalments ``filters`` select (leaving out the bucket with ``bucket=False``)."""
    instalments = ledger.instalments_outstanding(
        designer=filters.designer,
        project=filters.project,
        projects=_projects_of(filters.pm),
        q=filters.q,
        full_contacts=filters.full_contacts,
    )
    if bucket and filters.bucket:
        instalments = instalments.filter(ledger.bucket_q(filters.bucket, today=today))
    return instalments


def attach(instalments, *, today: date | None = None) -> list[Instalment]:
    """Give each instalment its project manager (one query for them all) and, with ``today``, its bucket and
    days overdue."""
    instalments = list(instalments)
    managers = project_managers(project_ids={i.contract.project_id for i in instalments}) if instalments else {}
    for instalment in instalments:
        instalment.project_manager = managers.get(instalment.contract.project_id)
        instalment.designer = instalment.contract.project.lead.designer
        if today is not None:
            instalment.bucket = ledger.bucket_of(instalment.due_on, today=today)
            instalment.bucket_label = ledger.BUCKET_LABELS[instalment.bucket]
            instalment.days_overdue = ledger.days_overdue(instalment.due_on, today=today)
    return instalments


# Keyset pages in finance's order ----------------------------------------------------------------------------


def _token(day: date | None, pk: int) -> str:
    return f"{day.isoformat() if day else 'none'}.{pk}"


def _parse(token: str) -> tuple[date | None, int] | None:
    day, _sep, pk = (token or "").partition(".")
    if not pk.isdigit() or len(pk) > 18:
        return None
    if day == "none":
        return None, int(pk)
    try:
        return date.fromisoformat(day), int(pk)
    except ValueError:
        return None


def oldest_first(instalments: QuerySet, *, after: str = "", size: int = PAGE_SIZE) -> tuple[list, str]:
    """One page by due day, oldest first (those without a due day last), after the row ``after`` names;
    returns the rows and the token of the next page ("" on the last)."""
    position = _parse(after)
    if position is not None:
        day, pk = position
        if day is None:
            instalments = instalments.filter(due_on__isnull=True, pk__gt=pk)
        else:
            instalments = instalments.filter(Q(due_on__gt=day) | Q(due_on=day, pk__gt=pk) | Q(due_on__isnull=True))
    rows = list(instalments.order_by(F("due_on").asc(nulls_last=True), "pk")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return rows, (_token(rows[-1].due_on, rows[-1].pk) if more else "")


def latest_first(paid: QuerySet, *, after: str = "", size: int = PAGE_SIZE) -> tuple[list, str]:
    """One page of payments, the latest received first, after the row ``after`` names."""
    position = _parse(after)
    if position is not None and position[0] is not None:
        day, pk = position
        paid = paid.filter(Q(paid_on__lt=day) | Q(paid_on=day, pk__lt=pk))
    rows = list(paid.order_by("-paid_on", "-pk")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return rows, (_token(rows[-1].paid_on, rows[-1].pk) if more else "")


# The receivables page ----------------------------------------------------------------------------------------


@dataclass
class Group:
    """One line of the totals by project, designer or project manager."""

    key: object  # the project's or the user's id; None: no designer / no project manager named
    label: str
    totals: dict  # {bucket: {"count", "amount"}} as contracts.receivables.outstanding_totals

    @property
    def parts(self) -> list[dict]:
        return [self.totals[part] | {"bucket": part} for part in ledger.PARTS]


@dataclass
class ReceivablesPage:
    today: date
    totals: dict  # by bucket, over the filters without the bucket
    selection: dict  # {"count", "amount"} of exactly the rows the filters select
    rows: list
    next: str = ""
    groups: list[Group] = field(default_factory=list)


def _empty() -> dict:
    return {bucket: {"count": 0, "amount": Decimal("0.00")} for bucket in ledger.MEASURED}


def _merge(into: dict, totals: dict) -> None:
    for bucket, measures in totals.items():
        into[bucket]["count"] += measures["count"]
        into[bucket]["amount"] += measures["amount"]


def _users(ids) -> dict:
    ids = [pk for pk in ids if pk is not None]
    return {user.pk: user for user in get_user_model().objects.filter(pk__in=ids)} if ids else {}


def groups(instalments: QuerySet, *, today: date, by: str) -> list[Group]:
    """The selection's totals per project, designer or project manager, the largest amount first."""
    if by == DESIGNER:
        found = ledger.outstanding_by(instalments, today=today, by=ledger.BY_DESIGNER)
        users = _users(row["key"] for row in found)
        result = [
            Group(row["key"], str(users[row["key"]]) if row["key"] in users else str(_("No designer")), row["totals"])
            for row in found
        ]
    else:
        found = ledger.outstanding_by(instalments, today=today, by=ledger.BY_PROJECT)
        if by == PROJECT:
            result = [Group(row["key"], f"{row['number']} · {row['name']}", row["totals"]) for row in found]
        else:
            managers = project_managers(project_ids=[row["key"] for row in found]) if found else {}
            merged: dict = {}
            for row in found:
                manager = managers.get(row["key"])
                key = manager.pk if manager else None
                if key not in merged:
                    label = str(manager) if manager else str(_("No project manager"))
                    merged[key] = Group(key, label, _empty())
                _merge(merged[key].totals, row["totals"])
            result = list(merged.values())
    return sorted(result, key=lambda group: (-group.totals["all"]["amount"], group.label))


def receivables_page(*, filters: Filters, today: date, by: str = "", after: str = "") -> ReceivablesPage:
    """The receivables page: totals by bucket (all filters but the bucket), the selection's total, one page
    of its rows with their project managers, and, with ``by``, the selection's totals per group."""
    unbucketed = outstanding(filters, today=today, bucket=False)
    totals = ledger.outstanding_totals(unbucketed, today=today)
    selection = totals[filters.bucket or "all"]
    chosen = outstanding(filters, today=today)
    rows, following = oldest_first(chosen, after=after)
    return ReceivablesPage(
        today=today,
        totals=totals,
        selection=selection,
        rows=attach(rows, today=today),
        next=following,
        groups=groups(chosen, today=today, by=by) if by else [],
    )


# The payment register ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentFilters:
    paid_from: date | None = None
    paid_to: date | None = None
    designer: object = None
    pm: object = None
    kind: str = ""
    recorded_by: object = None


def payments(filters: PaymentFilters) -> QuerySet:
    return ledger.instalments_paid(
        paid_from=filters.paid_from,
        paid_to=filters.paid_to,
        designer=filters.designer,
        projects=_projects_of(filters.pm),
        kind=filters.kind,
        recorded_by=filters.recorded_by,
    )


@dataclass
class PaymentsPage:
    totals: dict  # {"count", "amount", "received"}
    rows: list
    next: str = ""


def payments_page(*, filters: PaymentFilters, after: str = "") -> PaymentsPage:
    paid = payments(filters)
    rows, following = latest_first(paid, after=after)
    return PaymentsPage(totals=ledger.paid_totals(paid), rows=attach(rows), next=following)


# Downloads ----------------------------------------------------------------------------------------------------

# A download holds the whole selection, up to this many rows (a firm's receivables are far fewer).
DOWNLOAD_ROWS = 20000


def _name(user) -> str:
    return str(user) if user else ""


def receivables_tables(*, filters: Filters, today: date) -> list[Table]:
    """The selection's rows and its totals by bucket, as the page shows them."""
    chosen = outstanding(filters, today=today).order_by(F("due_on").asc(nulls_last=True), "pk")
    rows = attach(chosen[:DOWNLOAD_ROWS], today=today)
    selection = ledger.outstanding_totals(outstanding(filters, today=today), today=today)
    columns = [
        Column(_("Contract number")),
        Column(_("Customer")),
        Column(_("Project")),
        Column(_("Kind")),
        Column(_("Due on"), DATE),
        Column(_("Days overdue"), INTEGER),
        Column(_("Aging")),
        Column(_("Amount"), MONEY),
        Column(_("Designer")),
        Column(_("Project manager")),
    ]
    listed = Table(
        _("Receivables"),
        columns,
        [
            [
                row.contract.number,
                row.contract.project.customer.name,
                row.contract.project.name,
                row.get_kind_display(),
                row.due_on,
                row.days_overdue,
                str(row.bucket_label),
                row.amount,
                _name(row.designer),
                _name(row.project_manager),
            ]
            for row in rows
        ],
        total=[_("Total"), "", "", "", None, None, "", selection["all"]["amount"], "", ""],
        empty=_("Nothing outstanding."),
    )
    by_bucket = Table(
        _("Totals by aging"),
        [Column(_("Aging")), Column(_("Instalments"), INTEGER), Column(_("Amount"), MONEY)],
        [
            [str(ledger.BUCKET_LABELS[part]), selection[part]["count"], selection[part]["amount"]]
            for part in ledger.PARTS
        ],
        total=[_("Total"), selection["all"]["count"], selection["all"]["amount"]],
    )
    return [listed, by_bucket]


def payments_tables(*, filters: PaymentFilters) -> list[Table]:
    paid = payments(filters)
    rows = attach(paid.order_by("-paid_on", "-pk")[:DOWNLOAD_ROWS])
    totals = ledger.paid_totals(paid)
    columns = [
        Column(_("Paid on"), DATE),
        Column(_("Contract number")),
        Column(_("Customer")),
        Column(_("Project")),
        Column(_("Kind")),
        Column(_("Amount due"), MONEY),
        Column(_("Amount received"), MONEY),
        Column(_("Recorded by")),
        Column(_("Designer")),
        Column(_("Project manager")),
    ]
    return [
        Table(
            _("Payment register"),
            columns,
            [
                [
                    row.paid_on,
                    row.contract.number,
                    row.contract.project.customer.name,
                    row.contract.project.name,
                    row.get_kind_display(),
                    row.amount,
                    row.paid_amount if row.paid_amount is not None else row.amount,
                    _name(row.recorded_by) or str(_("Partner system")),
                    _name(row.designer),
                    _name(row.project_manager),
                ]
                for row in rows
            ],
            total=[_("Total"), "", "", "", "", totals["amount"], totals["received"], "", "", ""],
            empty=_("No payments match."),
        )
    ]
