"""Reads of the firm's item library and packages: the filtered list, its pages, the type-ahead suggestions the
quotation editor asks for, and the packages with their lines."""

from __future__ import annotations

from django.db.models import Case, Count, IntegerField, Prefetch, Q, Value, When

from .models import PriceItem, PricePackage, PricePackageLine

SUGGESTION_LIMIT = 50
PAGE_SIZE = 50


def price_item_list(*, trade: str = "", kind: str = "", active: bool | None = None, q: str = ""):
    """The firm's items narrowed by trade, kind, active or retired (None: both), and text: a code that starts
    with it or a name, brand or model that contains it. Ordered by code."""
    items = PriceItem.objects.all()
    if trade:
        items = items.filter(trade=trade)
    if kind:
        items = items.filter(kind=kind)
    if active is not None:
        items = items.filter(is_active=active)
    return price_items_matching(items, q).order_by("code")


def price_items_matching(items, q: str):
    """``items`` whose code starts with ``q`` or whose name, brand or model contains it (all for a blank ``q``)."""
    q = (q or "").strip()
    if not q:
        return items
    return items.filter(Q(code__istartswith=q) | Q(name__icontains=q) | Q(brand_model__icontains=q))


def price_item_page(*, after: str | None = None, size: int | None = None, **filters):
    """One page of the list in code order after the code ``after``; the extra row fetched says whether a next
    page exists, and the last code of this page is returned to ask for it (None on the last page)."""
    size = size or PAGE_SIZE
    items = price_item_list(**filters)
    if after:
        items = items.filter(code__gt=after)
    rows = list(items[: size + 1])
    return rows[:size], (rows[size - 1].code if len(rows) > size else None)


def price_item_suggestions(query: str, limit: int = 20) -> list[PriceItem]:
    """Active items for a type-ahead: a code starting with ``query`` first, then names containing it, each in
    code order; at most ``limit`` (50 at most). An empty query gives the first items by code."""
    limit = max(1, min(int(limit), SUGGESTION_LIMIT))
    query = (query or "").strip()
    items = PriceItem.objects.filter(is_active=True)
    if not query:
        return list(items.order_by("code")[:limit])
    code_first = Case(When(code__istartswith=query, then=Value(0)), default=Value(1), output_field=IntegerField())
    return list(
        items.filter(Q(code__istartswith=query) | Q(name__icontains=query))
        .annotate(code_match=code_first)
        .order_by("code_match", "code")[:limit]
    )


def price_package_list(*, active: bool | None = None):
    """The firm's packages by name, each with ``line_count``."""
    packages = PricePackage.objects.annotate(line_count=Count("lines"))
    if active is not None:
        packages = packages.filter(is_active=active)
    return packages.order_by("name")


def package_lines_prefetch() -> Prefetch:
    return Prefetch("lines", queryset=PricePackageLine.objects.select_related("price_item").order_by("position", "id"))


def price_package_with_lines(queryset=None):
    """Packages with their lines and each line's item, in the package's order."""
    return (PricePackage.objects.all() if queryset is None else queryset).prefetch_related(package_lines_prefetch())
