"""Reads for handover: the acceptance page of a worksite, its documents, and the firm's rectification
items."""

from __future__ import annotations

from dataclasses import dataclass, field

from renocrm.paging import keyset_page
from renocrm.tenancy.time import firm_today
from worksites.models import AcceptanceItem, Handover, HandoverDocument, RectificationItem, Worksite


def handover_documents_missing(*, handover: Handover, documents: list[HandoverDocument] | None = None) -> list:
    """The required document kinds the handover does not have yet, in the order of the checklist.
    ``documents`` may pass rows already loaded (saves the query)."""
    if documents is None:
        present = set(HandoverDocument.objects.filter(handover=handover).values_list("kind", flat=True))
    else:
        present = {document.kind for document in documents}
    return [kind for kind in HandoverDocument.REQUIRED_KINDS if kind not in present]


def handover_documents(*, worksite: Worksite) -> list[HandoverDocument]:
    """The documents handed to the homeowner of a worksite (empty before the handover starts)."""
    return list(HandoverDocument.objects.filter(handover__worksite=worksite).order_by("kind", "id"))


@dataclass
class DocumentKindRow:
    kind: str
    label: str
    required: bool
    documents: list[HandoverDocument] = field(default_factory=list)


@dataclass
class HandoverPage:
    handover: Handover | None
    items: list[AcceptanceItem]
    rectification_items: list[RectificationItem]
    documents: list[HandoverDocument]
    missing: list
    document_rows: list[DocumentKindRow]

    @property
    def passed(self) -> int:
        return sum(item.result == AcceptanceItem.Result.PASSED for item in self.items)

    @property
    def outstanding(self) -> int:
        return sum(item.status != RectificationItem.Status.CLOSED for item in self.rectification_items)


def handover_page(*, worksite: Worksite) -> HandoverPage:
    """The handover of a worksite with its checks, rectification items and documents, in a fixed number
    of queries however many there are."""
    handover = Handover.objects.select_related("started_by", "completed_by").filter(worksite=worksite).first()
    if handover is None:
        return HandoverPage(None, [], [], [], [], [])
    items = list(handover.items.select_related("checked_by").order_by("position"))
    rectification_items = list(
        handover.rectification_items.select_related("owner", "acceptance_item", "rechecked_by").order_by(
            "status", "deadline", "id"
        )
    )
    documents = list(handover.documents.select_related("uploaded_by").order_by("kind", "id"))
    rows = [
        DocumentKindRow(kind, str(kind.label), kind in HandoverDocument.REQUIRED_KINDS)
        for kind in HandoverDocument.Kind
    ]
    by_kind = {row.kind: row for row in rows}
    for document in documents:
        by_kind[document.kind].documents.append(document)
    missing = handover_documents_missing(handover=handover, documents=documents)
    return HandoverPage(handover, items, rectification_items, documents, missing, rows)


def rectification_items_overdue(queryset, *, today):
    return queryset.filter(status=RectificationItem.Status.OPEN, deadline__lt=today)


def rectification_item_page(*, overdue: bool, owner=None, before: int | None = None, status: str = ""):
    """The firm's rectification items newest first, keyset-paged by id. ``status`` "" means the ones still
    outstanding (open or awaiting re-check); ``overdue`` keeps the open ones past their deadline in the
    firm's time zone."""
    items = RectificationItem.objects.select_related(
        "owner", "acceptance_item", "handover__worksite__project__customer"
    )
    if status:
        items = items.filter(status=status)
    else:
        items = items.filter(status__in=[RectificationItem.Status.OPEN, RectificationItem.Status.FIXED])
    if overdue:
        items = rectification_items_overdue(items, today=firm_today())
    if owner is not None:
        items = items.filter(owner=owner)
    return keyset_page(items, before=before)
