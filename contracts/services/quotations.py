"""Writes for quotations: versions with their line items, sent to the customer, copied into a re-quote and
accepted by staff or on the homeowner's link."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.models import Quotation, QuotationItem, QuotationVersion
from contracts.services.amounts import line_amount, money
from leads.models import Lead
from renocrm.outbox.services import event_emit


def locked_version(version: QuotationVersion) -> QuotationVersion:
    return QuotationVersion.objects.select_for_update().get(pk=version.pk)


@transaction.atomic
def quotation_create(*, lead: Lead, title: str, by=None, items: list[dict] | None = None) -> Quotation:
    if lead.status in (Lead.Status.WON, Lead.Status.LOST):
        raise ValidationError({"lead": _("This lead is closed; reopen it before quoting.")})
    quotation = Quotation.objects.create(lead=lead, title=title, created_by=by)
    version = QuotationVersion.objects.create(quotation=quotation, number=1)
    if items:
        quotation_version_set_items(version=version, items=items)
    return quotation


@transaction.atomic
def quotation_version_set_items(*, version: QuotationVersion, items: list[dict]) -> QuotationVersion:
    """Replace a draft version's line items and recompute its total."""
    version = locked_version(version)
    if not version.is_editable:
        raise ValidationError(
            _("Version %(number)s has been sent and can no longer change; start a new version.")
            % {"number": version.number}
        )
    version.items.all().delete()
    rows = []
    for position, item in enumerate(items, start=1):
        quantity, unit_price = Decimal(item["quantity"]), Decimal(item["unit_price"])
        if quantity < 0 or unit_price < 0:
            raise ValidationError(_("Quantities and unit prices cannot be negative."))
        rows.append(
            QuotationItem(
                version=version,
                position=position,
                category=item["category"],
                name=item["name"],
                unit=item["unit"],
                quantity=quantity,
                unit_price=unit_price,
                brand_model=item.get("brand_model", ""),
                amount=line_amount(quantity, unit_price, field="items"),
            )
        )
    QuotationItem.objects.bulk_create(rows)
    version.total = money(sum((row.amount for row in rows), Decimal("0")), field="items")
    version.save(update_fields=["total"])
    return version


@transaction.atomic
def quotation_version_send(*, version: QuotationVersion) -> QuotationVersion:
    version = locked_version(version)
    if version.status != QuotationVersion.Status.DRAFT:
        raise ValidationError(_("Only a draft version can be sent."))
    if not version.items.exists():
        raise ValidationError(_("A version needs at least one line item before it is sent."))
    version.status, version.sent_at = QuotationVersion.Status.SENT, timezone.now()
    version.save(update_fields=["status", "sent_at"])
    return version


@transaction.atomic
def quotation_version_copy(*, version: QuotationVersion, note: str = "") -> QuotationVersion:
    """A new draft version that starts as a copy of ``version``."""
    quotation = Quotation.objects.select_for_update().get(pk=version.quotation_id)
    number = (quotation.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    copy = QuotationVersion.objects.create(
        quotation=quotation, number=number, based_on=version, note=note, total=version.total
    )
    QuotationItem.objects.bulk_create(
        [
            QuotationItem(
                version=copy,
                position=item.position,
                category=item.category,
                name=item.name,
                unit=item.unit,
                quantity=item.quantity,
                unit_price=item.unit_price,
                brand_model=item.brand_model,
                amount=item.amount,
            )
            for item in version.items.all()
        ]
    )
    return copy


@transaction.atomic
def quotation_version_accept(
    *, version: QuotationVersion, via: str, by=None, name: str = "", ip: str | None = None, signature: str = ""
) -> QuotationVersion:
    """Record the customer's acceptance. A quotation has one accepted version at a time: accepting a later
    version (a re-quote for a change order) supersedes the earlier one."""
    version = locked_version(version)
    if version.status != QuotationVersion.Status.SENT:
        raise ValidationError(_("Only a version that has been sent to the customer can be accepted."))
    if via == QuotationVersion.AcceptedVia.HOMEOWNER_LINK and not signature:
        raise ValidationError({"signature": _("Please sign before accepting.")})
    version.quotation.versions.filter(status=QuotationVersion.Status.ACCEPTED).update(
        status=QuotationVersion.Status.SUPERSEDED
    )
    version.status = QuotationVersion.Status.ACCEPTED
    version.accepted_at, version.accepted_via, version.accepted_by = timezone.now(), via, by
    version.accepted_name, version.accepted_ip, version.signature = name, ip, signature
    version.save()
    event_emit(
        event_type="quotation.accepted",
        payload={
            "quotation_id": version.quotation_id,
            "version_id": version.pk,
            "number": version.number,
            "total": str(version.total),
        },
    )
    return version
