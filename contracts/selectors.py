from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from .models import QuotationVersion


def _key(item):
    return (item.category, item.name.strip().lower())


def quotation_versions_compare(*, old: QuotationVersion, new: QuotationVersion) -> dict:
    """Items added, removed and changed between two versions, matched by trade category and item name, and
    the difference of the totals."""
    old_items, new_items = defaultdict(list), defaultdict(list)
    for item in old.items.all():
        old_items[_key(item)].append(item)
    for item in new.items.all():
        new_items[_key(item)].append(item)
    added, removed, changed = [], [], []
    for key in sorted(set(old_items) | set(new_items)):
        before, after = old_items.get(key, []), new_items.get(key, [])
        for a, b in zip(before, after, strict=False):
            fields = {
                name: [str(getattr(a, name)), str(getattr(b, name))]
                for name in ("unit", "quantity", "unit_price", "brand_model", "amount")
                if getattr(a, name) != getattr(b, name)
            }
            if fields:
                changed.append({"category": b.category, "name": b.name, "changes": fields})
        removed += [_item(item) for item in before[len(after) :]]
        added += [_item(item) for item in after[len(before) :]]
    return {
        "old": {"id": old.pk, "number": old.number, "total": str(old.total)},
        "new": {"id": new.pk, "number": new.number, "total": str(new.total)},
        "added": added,
        "removed": removed,
        "changed": changed,
        "total_difference": str(new.total - old.total),
    }


def _item(item) -> dict:
    return {
        "category": item.category,
        "name": item.name,
        "unit": item.unit,
        "quantity": str(item.quantity),
        "unit_price": str(item.unit_price),
        "brand_model": item.brand_model,
        "amount": str(item.amount),
    }


def instalments_outstanding_total(*, contract) -> Decimal:
    return sum((i.amount for i in contract.instalments.all() if i.paid_on is None), Decimal("0"))
