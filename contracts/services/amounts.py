"""Amounts to the cent, shared by quotations, contracts, payments and change orders: Decimal rounded half up,
never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from contracts.models import CENT

# The money columns hold 14 digits, 2 of them after the point.
MONEY_LIMIT = Decimal("1000000000000")


def money(value, *, field: str | None = None) -> Decimal:
    """``value`` rounded to the cent; refused (on ``field`` when named) when no money column can hold it,
    so an absurd quantity × price is the user's field error rather than a database error."""
    value = Decimal(value)
    if not value.is_finite() or abs(value) >= MONEY_LIMIT:
        message = _("%(amount)s is more than an amount can be (under 1,000,000,000,000).") % {
            "amount": f"{value:,.2f}" if value.is_finite() else value
        }
        raise ValidationError({field: [message]} if field else message)
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def line_amount(quantity, unit_price, *, field: str | None = None) -> Decimal:
    return money(Decimal(quantity) * Decimal(unit_price), field=field)
