"""Writes for quotations: versions with their lines by room, fees, tax and discounts (amounts by the one
rounding rule in ``pricing``), lines copied from another quotation or filled from a package, the manager's
approval of a large discount, sending (it freezes), copying into a re-quote and acceptance by staff or on the
homeowner's link."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts import documents
from contracts.models import (
    CENT,
    PriceItem,
    Quotation,
    QuotationItem,
    QuotationVersion,
    TradeCategory,
)
from contracts.services import pricing
from contracts.services.settings import contract_settings_get
from leads.models import Lead
from renocrm.accounts.models import Membership
from renocrm.outbox.services import event_emit

DISCOUNT_APPROVAL = "discounts.approve"
ZERO = Decimal("0.00")
# What a line is made of, as the editor and the API send it (``id``, optional, names the line it replaces).
LINE_FIELDS = (
    "room",
    "category",
    "price_item",
    "code",
    "name",
    "unit",
    "quantity",
    "unit_price",
    "cost_price",
    "brand_model",
    "note",
    "discount",
)
# What a change of the lines compares: a save that changes none of it keeps a discount's approval.
_LINE_CONTENT = tuple(f for f in LINE_FIELDS if f != "price_item") + ("price_item_id",)
_COPIED = _LINE_CONTENT + ("amount",)


def locked_version(version: QuotationVersion) -> QuotationVersion:
    return QuotationVersion.objects.select_for_update().get(pk=version.pk)


def _new_version(*, quotation: Quotation, number: int, by=None, **fields) -> QuotationVersion:
    """A new draft; without fees given, the firm's default management fee and tax."""
    if "management_fee_percent" not in fields:
        defaults = contract_settings_get()
        fields.update(management_fee_percent=defaults.management_fee_percent, tax_percent=defaults.tax_percent)
    return QuotationVersion.objects.create(quotation=quotation, number=number, created_by=by, **fields)


def _require_draft(version: QuotationVersion) -> None:
    if not version.is_editable:
        raise ValidationError(
            _("Version %(number)s has been sent and can no longer change; start a new version.")
            % {"number": version.number}
        )


@transaction.atomic
def quotation_create(
    *, lead: Lead, title: str, by=None, items: list[dict] | None = None, with_costs: bool = True
) -> Quotation:
    if lead.status in (Lead.Status.WON, Lead.Status.LOST):
        raise ValidationError({"lead": _("This lead is closed; reopen it before quoting.")})
    quotation = Quotation.objects.create(lead=lead, title=title, created_by=by)
    version = _new_version(quotation=quotation, number=1, by=by)
    if items:
        quotation_version_update(version=version, items=items, by=by, with_costs=with_costs)
    return quotation


# Lines and fees ---------------------------------------------------------------------------------------------


def _decimal(value, *, line: int, label: str, default=None) -> Decimal:
    if value in (None, ""):
        if default is not None:
            return default
        raise ValidationError({"items": _("Line %(line)s: give the %(what)s.") % {"line": line, "what": label}})
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise ValidationError(
            {"items": _("Line %(line)s: the %(what)s is not a number.") % {"line": line, "what": label}}
        )
    if number < 0:
        raise ValidationError({"items": _("Quantities, prices and discounts cannot be negative.")})
    if number != number.quantize(CENT):
        raise ValidationError(
            {
                "items": _("Line %(line)s: the %(what)s has more than two decimal places.")
                % {"line": line, "what": label}
            }
        )
    return number


def _line_error(line: int, error: ValidationError) -> ValidationError:
    return ValidationError(
        {"items": [_("Line %(line)s: %(error)s") % {"line": line, "error": m} for m in error.messages]}
    )


def _library_items(items: list[dict]) -> dict[int, PriceItem]:
    ids = {_pk(item.get("price_item")) for item in items} - {None}
    found = PriceItem.objects.in_bulk(ids)  # this firm's only: another firm's id is not found
    for number, item in enumerate(items, start=1):
        pk = _pk(item.get("price_item"))
        if pk is not None and pk not in found:
            raise ValidationError({"items": _("Line %(line)s: no such item in the library.") % {"line": number}})
    return found


def _pk(value) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, PriceItem):
        return value.pk
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # never a library item: refused as not found


def _line(*, version, item: dict, number: int, library: dict, old: dict, with_costs: bool) -> QuotationItem:
    """One line from the editor's or the API's keys. A library item fills what the line leaves out. A cost
    price sent counts only from a caller who may see costs; otherwise a saved line (``id`` names the line it
    replaces) keeps its own unless it now names another library item, whose cost it takes, as a new line
    from the library does."""
    source = library.get(_pk(item.get("price_item")))
    previous = old.get(_pk(item.get("id")))

    def given(key, fallback=""):
        value = item.get(key)
        if value in (None, "") and source is not None:
            return fallback
        return value if value is not None else ""

    category = given("category", source.trade if source else "")
    if category not in TradeCategory.values:
        raise ValidationError({"items": _("Line %(line)s: choose a trade category.") % {"line": number}})
    name = str(given("name", source.name if source else "")).strip()
    unit = str(given("unit", source.unit if source else "")).strip()
    if not name or not unit:
        raise ValidationError({"items": _("Line %(line)s: give the item and its unit.") % {"line": number}})
    quantity = _decimal(item.get("quantity"), line=number, label=_("quantity"))
    unit_price = _decimal(
        item.get("unit_price"), line=number, label=_("unit price"), default=source.unit_price if source else None
    )
    discount = _decimal(item.get("discount"), line=number, label=_("discount"), default=ZERO)
    if with_costs and item.get("cost_price") not in (None, ""):
        cost_price = _decimal(item.get("cost_price"), line=number, label=_("cost price"))
    elif previous is not None and (source is None or source.pk == previous.price_item_id):
        cost_price = previous.cost_price
    else:
        cost_price = source.cost_price if source else ZERO
    try:
        amount = pricing.line_net(quantity=quantity, unit_price=unit_price, discount=discount)
    except ValidationError as error:
        raise _line_error(number, error) from None
    return QuotationItem(
        version=version,
        room=str(item.get("room") or "").strip(),
        category=category,
        price_item=source,
        code=str(given("code", source.code if source else "")).strip(),
        name=name,
        unit=unit,
        quantity=quantity,
        unit_price=unit_price,
        cost_price=cost_price,
        brand_model=str(given("brand_model", source.brand_model if source else "")).strip(),
        note=str(item.get("note") or "").strip(),
        discount=discount,
        amount=amount,
    )


def _by_room(rows: list[QuotationItem]) -> list[QuotationItem]:
    """Lines kept together by room, rooms in the order they first appear; positions from 1."""
    order: dict[str, int] = {}
    for row in rows:
        order.setdefault(row.room, len(order))
    rows = sorted(rows, key=lambda row: order[row.room])  # stable: lines keep their order within a room
    for position, row in enumerate(rows, start=1):
        row.position = position
    return rows


def _content(rows) -> list[tuple]:
    return [tuple(getattr(row, field) for field in _LINE_CONTENT) for row in rows]


def _fees(version: QuotationVersion, fees: dict) -> None:
    for field in pricing.FEE_FIELDS:
        if field not in fees:
            continue
        value = fees[field]
        if field in ("other_fee_label", "discount_reason"):
            setattr(version, field, str(value or "").strip())
            continue
        try:
            number = Decimal(str(value if value not in (None, "") else "0"))
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or number < 0:
            raise ValidationError({field: _("Give an amount of 0 or more.")})
        if field.endswith("_percent") and number > 100:
            raise ValidationError({field: _("A percentage is at most 100.")})
        # Money and percentages are stored to the cent: a third decimal is refused, never rounded away.
        if number != number.quantize(CENT):
            raise ValidationError({field: _("Give at most two decimal places.")})
        setattr(version, field, number)


def _recompute(version: QuotationVersion, rows: list[QuotationItem]) -> None:
    amounts = pricing.version_amounts(
        items=rows,
        management_fee_percent=version.management_fee_percent,
        design_fee=version.design_fee,
        transport_fee=version.transport_fee,
        other_fee=version.other_fee,
        tax_percent=version.tax_percent,
        discount=version.discount,
    )
    for field in pricing.Amounts.STORED:
        setattr(version, field, getattr(amounts, field))


@transaction.atomic
def quotation_version_update(
    *,
    version: QuotationVersion,
    items: list[dict] | None = None,
    fees: dict | None = None,
    by=None,
    with_costs: bool = True,
) -> QuotationVersion:
    """Replace a draft's lines (``items``, keys of ``LINE_FIELDS``; None keeps them) and set its fees, tax and
    discount (``fees``, keys of ``pricing.FEE_FIELDS``; those left out stay), then recompute every amount by
    the one rounding rule. ``with_costs`` is whether the caller may see cost prices (see ``_line``). A change
    clears the approval of a discount."""
    version = locked_version(version)
    _require_draft(version)
    old_rows = list(version.items.all())
    rows = old_rows
    if items is not None:
        library = _library_items(items)
        old = {row.pk: row for row in old_rows}
        rows = _by_room(
            [
                _line(version=version, item=item, number=number, library=library, old=old, with_costs=with_costs)
                for number, item in enumerate(items, start=1)
            ]
        )
    before = [getattr(version, field) for field in pricing.FEE_FIELDS]
    if fees:
        _fees(version, fees)
    _recompute(version, rows)
    lines_changed = items is not None and _content(rows) != _content(old_rows)
    if lines_changed:
        version.items.all().delete()
        QuotationItem.objects.bulk_create(rows)
    changed = lines_changed or before != [getattr(version, field) for field in pricing.FEE_FIELDS]
    if changed:
        version.discount_approved_at, version.discount_approved_by = None, None
        _priced(version, by)
    version.save(
        update_fields=[
            *pricing.FEE_FIELDS,
            *pricing.Amounts.STORED,
            "discount_approved_at",
            "discount_approved_by",
            "priced_by",
        ]
    )
    return version


def _priced(version: QuotationVersion, by) -> None:
    """Record who changed the prices: they may not approve the discount. A change by nobody (a partner's
    key) leaves the last staff member who priced it on record."""
    if by is not None:
        version.priced_by = by


def quotation_version_set_items(
    *, version: QuotationVersion, items: list[dict], by=None, with_costs: bool = True
) -> QuotationVersion:
    """Replace a draft version's lines and recompute its amounts."""
    return quotation_version_update(version=version, items=items, by=by, with_costs=with_costs)


def quotation_version_set_fees(*, version: QuotationVersion, by=None, **fees) -> QuotationVersion:
    """Set a draft's fees, tax and discount on the total and recompute its amounts."""
    unknown = set(fees) - set(pricing.FEE_FIELDS)
    if unknown:
        raise TypeError(f"quotation_version_set_fees takes no {', '.join(sorted(unknown))}")
    return quotation_version_update(version=version, fees=fees, by=by)


def _append(version: QuotationVersion, new_rows: list[QuotationItem], *, by) -> QuotationVersion:
    """Lines added after a draft's own (each room's lines stay together), amounts recomputed, the discount's
    approval cleared."""
    version = locked_version(version)
    _require_draft(version)
    rows = _by_room([*version.items.all(), *new_rows])
    for row in new_rows:
        row.version = version
    _recompute(version, rows)
    version.items.all().delete()
    for row in rows:
        row.pk = None
    QuotationItem.objects.bulk_create(rows)
    version.discount_approved_at, version.discount_approved_by = None, None
    _priced(version, by)
    version.save(update_fields=[*pricing.Amounts.STORED, "discount_approved_at", "discount_approved_by", "priced_by"])
    return version


@transaction.atomic
def quotation_version_copy_lines(*, version: QuotationVersion, source: QuotationVersion, by=None) -> QuotationVersion:
    """Append the lines of another quotation version of this firm (any quotation, any status) to a draft,
    as they are there: room, library item, prices, cost and discount."""
    if source.pk == version.pk:
        raise ValidationError({"source": _("Choose another version to copy lines from.")})
    lines = list(QuotationItem.objects.filter(version_id=source.pk).order_by("position", "id"))
    if not lines:
        raise ValidationError({"source": _("That version has no lines to copy.")})
    copies = [QuotationItem(**{field: getattr(line, field) for field in _COPIED}) for line in lines]
    return _append(version, copies, by=by)


@transaction.atomic
def quotation_version_fill_from_package(
    *, version: QuotationVersion, package, area: Decimal | None = None, by=None
) -> QuotationVersion:
    """Append a firm package's lines to a draft, their quantities worked out from the floor area (the lead's
    property's when none is given) by ``library.package_lines_for``; the quoter edits them after."""
    from contracts.services.library import package_lines_for

    if not package.is_active:
        raise ValidationError({"package": _("That package is retired; choose an active one.")})
    if area in (None, ""):
        home = version.quotation.lead.property
        area = home.area if home is not None else None
    try:
        area = Decimal(str(area)) if area is not None else None
    except InvalidOperation:
        area = None
    if area is None or not area.is_finite() or area <= 0:
        raise ValidationError({"area": _("Give the floor area (m²) to fill the package from.")})
    lines = list(package_lines_for(package, area))
    if not lines:
        raise ValidationError({"package": _("That package has no lines.")})
    library = _library_items(lines)
    rows = [
        _line(version=version, item=line, number=number, library=library, old={}, with_costs=True)
        for number, line in enumerate(lines, start=1)
    ]
    return _append(version, rows, by=by)


# Discount approval, sending, copying, acceptance -----------------------------------------------------------


def discount_needs_approval(version: QuotationVersion, *, threshold_percent: Decimal | None = None) -> bool:
    """Whether the version's discounts are over the firm's threshold and not approved yet (only a draft can
    still need it)."""
    if version.status != QuotationVersion.Status.DRAFT or version.discount_approved_at is not None:
        return False
    if threshold_percent is None:
        threshold_percent = contract_settings_get().discount_approval_percent
    return pricing.discount_needs_approval(version, threshold_percent=threshold_percent)


def _priced_it(version: QuotationVersion, user) -> bool:
    """Whether ``user`` wrote the version or last changed its lines, fees or discount."""
    return user is not None and user.pk in (version.created_by_id, version.priced_by_id)


def discount_may_approve(version: QuotationVersion, *, user, membership) -> bool:
    """Whether ``user`` may approve the version's discount (the page offers the button only then; the
    service decides): a member with the approval permission who neither wrote the version nor priced it."""
    return (
        membership is not None
        and membership.has_perm(DISCOUNT_APPROVAL)
        and user is not None
        and not _priced_it(version, user)
    )


def _threshold_text(threshold: Decimal) -> str:
    return format(threshold.normalize(), "f")


@transaction.atomic
def quotation_version_approve_discount(*, version: QuotationVersion, by) -> QuotationVersion:
    """A manager's approval of discounts over the firm's threshold. Nobody approves their own discount: the
    version's author and whoever last changed its lines, fees or discount are refused, and so is anyone
    without the approval permission — a partner's key too."""
    version = locked_version(version)
    _require_draft(version)
    threshold = contract_settings_get().discount_approval_percent
    if not pricing.discount_needs_approval(version, threshold_percent=threshold):
        raise ValidationError(
            {
                "discount_approved_by": _("The discounts are within %(percent)s%%: there is nothing to approve.")
                % {"percent": _threshold_text(threshold)}
            }
        )
    if by is not None and by.pk == version.created_by_id:
        raise ValidationError(
            {
                "discount_approved_by": _(
                    "You wrote this version; its discount needs the approval of a manager other than its author."
                )
            }
        )
    if _priced_it(version, by):
        raise ValidationError(
            {
                "discount_approved_by": _(
                    "You changed this version's prices; its discount needs the approval of a manager who did not."
                )
            }
        )
    membership = Membership.objects.filter(user=by, tenant_id=version.tenant_id, is_active=True).first() if by else None
    if membership is None or not by.is_active or not membership.has_perm(DISCOUNT_APPROVAL):
        raise ValidationError(
            {
                "discount_approved_by": _(
                    "Discounts over %(percent)s%% are approved by a manager with the right to approve discounts."
                )
                % {"percent": _threshold_text(threshold)}
            }
        )
    version.discount_approved_at, version.discount_approved_by = timezone.now(), by
    version.save(update_fields=["discount_approved_at", "discount_approved_by"])
    return version


@transaction.atomic
def quotation_version_send(*, version: QuotationVersion) -> QuotationVersion:
    version = locked_version(version)
    if version.status != QuotationVersion.Status.DRAFT:
        raise ValidationError(_("Only a draft version can be sent."))
    if not version.items.exists():
        raise ValidationError(_("A version needs at least one line item before it is sent."))
    threshold = contract_settings_get().discount_approval_percent
    if discount_needs_approval(version, threshold_percent=threshold):
        raise ValidationError(
            {
                "discount": _(
                    "The discounts come to %(share)s%% of the lines, over the firm's %(percent)s%%: a manager "
                    "other than the version's author must approve them before it is sent."
                )
                % {"share": pricing.discount_percent(version), "percent": _threshold_text(threshold)}
            }
        )
    version.status, version.sent_at = QuotationVersion.Status.SENT, timezone.now()
    version.save(update_fields=["status", "sent_at"])
    return version


@transaction.atomic
def quotation_version_copy(*, version: QuotationVersion, note: str = "", by=None) -> QuotationVersion:
    """A new draft version that starts as a copy of ``version``: its lines, fees, tax and discount (a
    discount's approval is not copied: the new version is approved on its own). Whoever priced ``version``
    priced the copy's prices too, so they still may not approve its discount."""
    quotation = Quotation.objects.select_for_update().get(pk=version.quotation_id)
    # The version as stored now: the caller's object may predate a change of its fees or of who priced it.
    version = QuotationVersion.objects.get(pk=version.pk)
    number = (quotation.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    copy = _new_version(
        quotation=quotation,
        number=number,
        by=by,
        based_on=version,
        note=note,
        priced_by_id=version.priced_by_id or version.created_by_id,
        **{field: getattr(version, field) for field in (*pricing.FEE_FIELDS, *pricing.Amounts.STORED)},
    )
    QuotationItem.objects.bulk_create(
        [
            QuotationItem(version=copy, position=item.position, **{field: getattr(item, field) for field in _COPIED})
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
    # What was accepted, frozen in this transaction; its PDF is made after commit.
    documents.signed_copy_freeze(version=version)
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
