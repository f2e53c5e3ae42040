from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from leads.selectors import customer_match
from renocrm.paging import keyset_page
from renocrm.tenancy.time import firm_days

from .models import (
    ChangeOrder,
    Contract,
    DesignAgreement,
    Instalment,
    MeasurementAppointment,
    Quotation,
    QuotationItem,
    QuotationVersion,
    TradeCategory,
)

# Quotations ---------------------------------------------------------------------------------------------


def quotation_rooms(items) -> list[dict]:
    """A version's lines grouped by room or area, rooms in the order they first appear (lines in their
    order), each with its subtotal after the lines' discounts."""
    rooms: dict[str, dict] = {}
    for item in items:
        room = rooms.setdefault(item.room, {"room": item.room, "items": [], "subtotal": Decimal("0.00")})
        room["items"].append(item)
        room["subtotal"] += item.amount
    return list(rooms.values())


def quotation_room_subtotals(items) -> list[dict]:
    """Per room or area (in the order rooms first appear): how many lines and their amount after discounts."""
    return [
        {"room": room["room"], "lines": len(room["items"]), "subtotal": room["subtotal"]}
        for room in quotation_rooms(items)
    ]


def quotation_trade_subtotals(items) -> list[dict]:
    """Per trade category present (in the trade categories' order): how many lines and their amount after
    discounts."""
    sums: dict[str, list] = {}
    for item in items:
        entry = sums.setdefault(item.category, [0, Decimal("0.00")])
        entry[0] += 1
        entry[1] += item.amount
    return [
        {"trade": trade, "label": label, "lines": sums[trade][0], "subtotal": sums[trade][1]}
        for trade, label in TradeCategory.choices
        if trade in sums
    ]


def _key(item):
    return (item.room.strip().lower(), item.category, item.name.strip().lower())


def _side_by_side(old: list[dict], new: list[dict], key: str) -> list[dict]:
    """Two versions' subtotals per room (or trade) in one list: the old order first, then what only the new
    version has, with the difference."""
    before = {row[key]: row for row in old}
    after = {row[key]: row for row in new}
    rows = []
    for name in [*before, *(name for name in after if name not in before)]:
        a, b = before.get(name), after.get(name)
        old_amount = a["subtotal"] if a else Decimal("0.00")
        new_amount = b["subtotal"] if b else Decimal("0.00")
        rows.append(
            {
                key: name,
                "label": (b or a).get("label", name),
                "old": str(old_amount),
                "new": str(new_amount),
                "difference": str(new_amount - old_amount),
            }
        )
    return rows


def quotation_versions_compare(*, old: QuotationVersion, new: QuotationVersion) -> dict:
    """Items added, removed and changed between two versions, matched by room, trade category and item name;
    the room and trade subtotals side by side; and the difference of the totals."""
    old_list, new_list = list(old.items.all()), list(new.items.all())
    old_items, new_items = defaultdict(list), defaultdict(list)
    for item in old_list:
        old_items[_key(item)].append(item)
    for item in new_list:
        new_items[_key(item)].append(item)
    added, removed, changed = [], [], []
    for key in sorted(set(old_items) | set(new_items)):
        before, after = old_items.get(key, []), new_items.get(key, [])
        for a, b in zip(before, after, strict=False):
            fields = {
                name: [str(getattr(a, name)), str(getattr(b, name))]
                for name in QuotationItem.COMPARED_FIELDS
                if getattr(a, name) != getattr(b, name)
            }
            if fields:
                changed.append({"room": b.room, "category": b.category, "name": b.name, "changes": fields})
        removed += [_item(item) for item in before[len(after) :]]
        added += [_item(item) for item in after[len(before) :]]
    return {
        "old": {"id": old.pk, "number": old.number, "total": str(old.total)},
        "new": {"id": new.pk, "number": new.number, "total": str(new.total)},
        "added": added,
        "removed": removed,
        "changed": changed,
        "rooms": _side_by_side(quotation_room_subtotals(old_list), quotation_room_subtotals(new_list), "room"),
        "trades": _side_by_side(quotation_trade_subtotals(old_list), quotation_trade_subtotals(new_list), "trade"),
        "total_difference": str(new.total - old.total),
    }


def _item(item) -> dict:
    return {
        "room": item.room,
        "category": item.category,
        "code": item.code,
        "name": item.name,
        "unit": item.unit,
        "quantity": str(item.quantity),
        "unit_price": str(item.unit_price),
        "brand_model": item.brand_model,
        "discount": str(item.discount),
        "amount": str(item.amount),
    }


def quotation_version_choices(*, exclude: QuotationVersion | None = None, limit: int = 100):
    """The firm's latest quotation versions to copy lines from, newest first, with their quotation and
    customer (one query)."""
    versions = QuotationVersion.objects.select_related("quotation__lead__customer").order_by("-id")
    if exclude is not None:
        versions = versions.exclude(pk=exclude.pk)
    return versions[:limit]


def instalments_outstanding_total(*, contract) -> Decimal:
    return sum((i.amount for i in contract.instalments.all() if i.paid_on is None), Decimal("0"))


# Pages ------------------------------------------------------------------------------------------------


def contract_page(
    *,
    q: str = "",
    package_type: str = "",
    signed_from: date | None = None,
    signed_to: date | None = None,
    full_contacts: bool = False,
    before: int | None = None,
):
    unpaid = (
        Instalment.objects.filter(contract=OuterRef("pk"), paid_on__isnull=True)
        .values("contract")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    contracts = Contract.objects.select_related("project__customer").annotate(
        outstanding=Coalesce(Subquery(unpaid), Value(Decimal("0")), output_field=DecimalField())
    )
    if q:
        contracts = contracts.filter(
            customer_match(q, "project__customer__", full_contacts=full_contacts) | Q(number__icontains=q)
        )
    if package_type:
        contracts = contracts.filter(package_type=package_type)
    if signed_from:
        contracts = contracts.filter(signed_on__gte=signed_from)
    if signed_to:
        contracts = contracts.filter(signed_on__lte=signed_to)
    return keyset_page(contracts, before=before)


def quotation_page(*, q: str = "", status: str = "", full_contacts: bool = False, before: int | None = None):
    """Quotations with their latest version's number, status and total."""
    latest = QuotationVersion.objects.filter(quotation=OuterRef("pk")).order_by("-number")
    quotations = Quotation.objects.select_related("lead__customer").annotate(
        latest_number=Subquery(latest.values("number")[:1]),
        latest_status=Subquery(latest.values("status")[:1]),
        latest_total=Subquery(latest.values("total")[:1]),
        accepted_id=Subquery(
            QuotationVersion.objects.filter(quotation=OuterRef("pk"), status=QuotationVersion.Status.ACCEPTED).values(
                "id"
            )[:1]
        ),
    )
    if q:
        quotations = quotations.filter(
            customer_match(q, "lead__customer__", full_contacts=full_contacts) | Q(title__icontains=q)
        )
    if status:
        quotations = quotations.filter(latest_status=status)
    return keyset_page(quotations, before=before)


def change_orders_with_totals(queryset=None):
    """Change orders annotated with their contract's approved changes (absolute), so the 10 % rule can be
    shown for a whole list without a query per row."""
    approved = (
        ChangeOrder.objects.filter(contract=OuterRef("contract"), status=ChangeOrder.Status.APPROVED)
        .values("contract")
        .annotate(total=Sum(F("additions") + F("removals")))
        .values("total")
    )
    queryset = ChangeOrder.objects.all() if queryset is None else queryset
    return queryset.select_related("contract").annotate(
        approved_changes=Coalesce(Subquery(approved), Value(Decimal("0")), output_field=DecimalField())
    )


def change_order_page(*, q: str = "", status: str = "", full_contacts: bool = False, before: int | None = None):
    orders = change_orders_with_totals().select_related("contract__project__customer")
    if q:
        orders = orders.filter(
            customer_match(q, "contract__project__customer__", full_contacts=full_contacts)
            | Q(contract__number__icontains=q)
        )
    if status:
        orders = orders.filter(status=status)
    return keyset_page(orders, before=before)


def lead_documents(*, lead) -> dict:
    """What the lead page shows of the design and quotation stage: a fixed number of queries."""
    return {
        "design_agreements": list(DesignAgreement.objects.filter(lead=lead).order_by("-id")),
        "appointments": list(
            MeasurementAppointment.objects.filter(lead=lead).select_related("designer").order_by("-scheduled_at")
        ),
        "quotations": list(Quotation.objects.filter(lead=lead).prefetch_related("versions").order_by("-id")),
        "contracts": list(Contract.objects.filter(project__lead=lead).order_by("-id")),
    }


# Dashboards ------------------------------------------------------------------------------------------------


def contracts_signed(*, start: date, end: date) -> dict:
    """Contracts signed from ``start`` to ``end`` (inclusive): how many, and their signed amount. One query."""
    return Contract.objects.filter(signed_on__gte=start, signed_on__lte=end).aggregate(
        count=Count("pk"), amount=Coalesce(Sum("original_amount"), Value(Decimal("0.00")), output_field=DecimalField())
    )


def contracts_signed_by_package(*, start: date, end: date) -> list[dict]:
    """Per package type (every type, in choice order): contracts signed in the period and their signed amount."""
    rows = {
        row["package_type"]: row
        for row in Contract.objects.filter(signed_on__gte=start, signed_on__lte=end)
        .values("package_type")
        .annotate(count=Count("pk"), amount=Sum("original_amount"))
        .order_by()
    }
    return [
        {
            "package_type": package,
            "label": label,
            "count": rows.get(package, {}).get("count", 0),
            "amount": rows.get(package, {}).get("amount") or Decimal("0.00"),
        }
        for package, label in Contract.PackageType.choices
    ]


def instalments_due(*, today: date, within_days: int) -> dict:
    """Unpaid instalments: those past their due day, and those falling due in the next ``within_days`` days
    (today included), with their amounts. Instalments without a due day yet are not counted. One query."""
    zero = Value(Decimal("0.00"))
    overdue = Q(due_on__lt=today)
    upcoming = Q(due_on__gte=today, due_on__lte=today + timedelta(days=within_days))
    return Instalment.objects.filter(paid_on__isnull=True, due_on__isnull=False).aggregate(
        overdue=Count("pk", filter=overdue),
        overdue_amount=Coalesce(Sum("amount", filter=overdue), zero, output_field=DecimalField()),
        upcoming=Count("pk", filter=upcoming),
        upcoming_amount=Coalesce(Sum("amount", filter=upcoming), zero, output_field=DecimalField()),
    )


# The agenda ------------------------------------------------------------------------------------------------


def measurements_for_agenda(*, staff: list[int] | None, start: date, end: date):
    """Measurement appointments (not called off) on the firm-local days ``start`` to ``end`` (inclusive), of
    the designers ``staff`` (user ids; None: everyone's), with the lead's customer and property."""
    since, until = firm_days(start, end)
    appointments = MeasurementAppointment.objects.filter(scheduled_at__gte=since, scheduled_at__lt=until).exclude(
        status=MeasurementAppointment.Status.CANCELLED
    )
    if staff is not None:
        appointments = appointments.filter(designer__in=staff)
    return appointments.select_related("lead__customer", "lead__property", "designer").order_by("scheduled_at", "id")
