"""Keyset pages for the staff lists: newest first by id, without a COUNT over a firm's table."""

from __future__ import annotations

PAGE_SIZE = 50


def keyset_page(queryset, *, before: int | None, size: int = PAGE_SIZE):
    """One page of ``queryset`` older than the id ``before``; the extra row fetched says whether an older
    page exists, and its key is returned with the rows (None on the last page)."""
    if before:
        queryset = queryset.filter(id__lt=before)
    rows = list(queryset.order_by("-id")[: size + 1])
    return rows[:size], (rows[size - 1].pk if len(rows) > size else None)


def before_param(request, name: str = "before") -> int | None:
    """The ``before`` key of a list page's query string (``name`` for a page with several lists); anything
    that is not a positive id is ignored."""
    before = request.GET.get(name, "")
    return int(before) if before.isdigit() else None
