"""The one rounding rule for a quotation version's amounts. Every amount the firm shows, sends, signs or
compares is made here, from Decimals, rounded half up to the cent (``amounts.money``) at these steps only:

1. each line: ``amount = round(quantity × unit_price) − line discount``; the discount is at most the line's
   rounded gross, else a field error;
2. ``subtotal = Σ line amounts``; ``line_discounts = Σ line discounts`` (both exact: no rounding);
3. ``management_fee = round(subtotal × management_fee_percent / 100)``;
4. ``before_tax = subtotal + management_fee + design_fee + transport_fee + other_fee − discount``; the
   discount on the total is at most what it is taken from, else a field error;
5. ``tax = round(before_tax × tax_percent / 100)``;
6. ``total = before_tax + tax``;
7. ``cost = Σ round(quantity × cost_price)``, line by line; ``margin = before_tax − cost``, and its share of
   ``before_tax`` to one decimal place.

Fees, tax and margin are taken from the sum, never line by line, so the lines shown add up to the subtotal
exactly and the total is what the customer can check with a calculator."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from contracts.services.amounts import line_amount, money

ZERO = Decimal("0.00")
HUNDRED = Decimal("100")
TENTH = Decimal("0.1")

# The version fields the quoter sets (the amounts are computed from them and the lines).
FEE_FIELDS = (
    "management_fee_percent",
    "design_fee",
    "transport_fee",
    "other_fee",
    "other_fee_label",
    "tax_percent",
    "discount",
    "discount_reason",
)


def line_net(*, quantity, unit_price, discount=ZERO, field: str = "discount") -> Decimal:
    """Step 1: a line's amount after its own discount; the discount may not exceed the line's rounded gross
    (an error on ``field``)."""
    gross = line_amount(quantity, unit_price, field=field)
    discount = money(discount or ZERO, field=field)
    if discount < 0:
        raise ValidationError({field: _("A discount cannot be negative.")})
    if discount > gross:
        raise ValidationError(
            {
                field: _("The discount (¥%(discount)s) is more than the line comes to (¥%(gross)s).")
                % {"discount": discount, "gross": gross}
            }
        )
    return gross - discount


@dataclass(frozen=True)
class Amounts:
    subtotal: Decimal
    line_discounts: Decimal
    management_fee: Decimal
    before_tax: Decimal
    tax: Decimal
    total: Decimal
    cost: Decimal

    # The version's stored columns (before_tax is derived from them).
    STORED = ("subtotal", "line_discounts", "management_fee", "tax", "total", "cost")


def version_amounts(
    *,
    items: Iterable,
    management_fee_percent,
    design_fee,
    transport_fee,
    other_fee,
    tax_percent,
    discount,
) -> Amounts:
    """Steps 2 to 7 for lines (``amount``, ``discount``, ``quantity``, ``cost_price``: each line's amount
    already made by ``line_net``) and the version's fees. A discount on the total larger than what it is
    taken from is an error on ``discount``."""
    items = list(items)
    subtotal = money(sum((item.amount for item in items), ZERO), field="items")
    line_discounts = money(sum((item.discount or ZERO for item in items), ZERO), field="items")
    management_fee = money(subtotal * Decimal(management_fee_percent) / HUNDRED, field="management_fee_percent")
    gross = money(subtotal + management_fee + Decimal(design_fee) + Decimal(transport_fee) + Decimal(other_fee))
    discount = money(discount or ZERO, field="discount")
    if discount > gross:
        raise ValidationError(
            {
                "discount": _("The discount (¥%(discount)s) is more than the quotation comes to (¥%(gross)s).")
                % {"discount": discount, "gross": gross}
            }
        )
    before_tax = gross - discount
    tax = money(before_tax * Decimal(tax_percent) / HUNDRED, field="tax_percent")
    cost = money(sum((line_amount(item.quantity, item.cost_price or ZERO) for item in items), ZERO), field="items")
    return Amounts(
        subtotal=subtotal,
        line_discounts=line_discounts,
        management_fee=management_fee,
        before_tax=before_tax,
        tax=tax,
        total=money(before_tax + tax, field="items"),
        cost=cost,
    )


def before_tax(version) -> Decimal:
    """What the firm earns from a version, fees in and discount out, before tax (= total − tax)."""
    return version.total - version.tax


def margin(version) -> tuple[Decimal, Decimal | None]:
    """The version's margin over what its lines cost, and its share of the amount before tax in % (one decimal
    place; None when that amount is zero)."""
    earned = before_tax(version)
    amount = earned - version.cost
    if not earned:
        return amount, None
    return amount, (amount * HUNDRED / earned).quantize(TENTH, rounding=ROUND_HALF_UP)


def discount_percent(version) -> Decimal:
    """All discounts (the lines' and the total's) as a share in % of what the lines come to before their
    discounts, to two decimal places. Discounts on lines worth nothing count as 100 %."""
    discounts = version.line_discounts + version.discount
    lines_gross = version.subtotal + version.line_discounts
    if not discounts:
        return Decimal("0.00")
    if not lines_gross:
        return Decimal("100.00")
    return (discounts * HUNDRED / lines_gross).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def discount_needs_approval(version, *, threshold_percent: Decimal) -> bool:
    """Whether the discounts exceed the firm's share (``ContractSettings.discount_approval_percent``): a
    manager other than the version's author then approves before it is sent. The exact comparison, not the
    rounded share."""
    discounts = version.line_discounts + version.discount
    if not discounts:
        return False
    lines_gross = version.subtotal + version.line_discounts
    return discounts * HUNDRED > lines_gross * threshold_percent
