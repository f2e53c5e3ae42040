"""Writes for the firm's item library (price items) and its packages, the XLSX import's upsert, and the lines
a package gives a quotation for a floor area.

Prices are exact to the cent: a price with more than two decimals is refused rather than rounded, so what
the firm typed is what it quotes. A library item copied into a quotation keeps its own copy; nothing here
changes a quotation."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.models import CENT, PackageType, PriceItem, PricePackage, PricePackageLine, TradeCategory
from contracts.services.amounts import MONEY_LIMIT
from leads.services.checks import Refusals

ZERO = Decimal("0.00")
# Quantities of package lines: per-m² factors may have three decimals; a fixed quantity goes onto a quotation
# line as it is, and quotation quantities have two.
QUANTITY_LIMIT = Decimal("1000000000")
QUANTITY_PLACES = {PricePackageLine.Basis.FIXED: 2, PricePackageLine.Basis.PER_AREA: 3}
MAX_LENGTHS = {"code": 40, "name": 200, "unit": 20, "brand_model": 200}
# The fields of an item the library's writes and the import set, in the order the export writes them.
ITEM_FIELDS = ("code", "name", "kind", "trade", "unit", "unit_price", "cost_price", "description", "brand_model")


# Price items ------------------------------------------------------------------------------------------------


def _decimal(value) -> Decimal | None:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def price_check(value, *, label: str) -> Decimal:
    """A price as the library keeps it: a number of at least 0 with at most two decimals."""
    number = _decimal(value)
    if number is None:
        raise ValidationError(_("%(field)s must be a number.") % {"field": label}, code="invalid")
    if number < 0:
        raise ValidationError(_("%(field)s cannot be negative.") % {"field": label}, code="min_value")
    if number >= MONEY_LIMIT:
        raise ValidationError(_("%(field)s is too large.") % {"field": label}, code="max_value")
    if number != number.quantize(CENT):
        raise ValidationError(
            _("%(field)s has more than two decimals; give it to the cent.") % {"field": label}, code="decimal_places"
        )
    return number.quantize(CENT)


FIELD_LABELS = {
    "code": lambda: _("Code"),
    "name": lambda: _("Item"),
    "kind": lambda: _("Kind"),
    "trade": lambda: _("Trade category"),
    "unit": lambda: _("Unit"),
    "unit_price": lambda: _("Unit price"),
    "cost_price": lambda: _("Cost price"),
    "description": lambda: _("Description"),
    "brand_model": lambda: _("Brand / model"),
}


def price_item_check(*, item: PriceItem | None = None, check_code: bool = True, **fields) -> dict:
    """The fields of a new item (``item`` None: code, name, trade, unit and unit price required) or of a change
    to ``item`` (only those given), cleaned; refused with every field error at once. Codes are unique in the
    firm (``check_code`` False: the caller has looked already); surrounding spaces are dropped."""
    refusals = Refusals()
    cleaned = {}
    for name, value in fields.items():
        if name not in ITEM_FIELDS:
            raise TypeError(f"price items have no field {name!r}")
        if name in ("unit_price", "cost_price"):
            try:
                cleaned[name] = price_check(value, label=FIELD_LABELS[name]())
            except ValidationError as error:
                refusals.add(name, error.messages[0], code=error.code)
                cleaned[name] = None
            continue
        value = "" if value is None else str(value).strip()
        if name == "kind" and value not in PriceItem.Kind.values:
            refusals.add(name, _("Choose one of the kinds of item."), code="invalid_choice")
        elif name == "trade" and value not in TradeCategory.values:
            refusals.add(name, _("Choose one of the trade categories."), code="invalid_choice")
        elif name in MAX_LENGTHS and len(value) > MAX_LENGTHS[name]:
            refusals.add(
                name,
                _("%(field)s is longer than %(max)s characters.")
                % {"field": FIELD_LABELS[name](), "max": MAX_LENGTHS[name]},
                code="max_length",
            )
        cleaned[name] = value
    for name in ("code", "name", "trade", "unit", "unit_price"):
        missing = name not in fields if item is None else False
        if (missing or cleaned.get(name, "x") in ("", None)) and name not in refusals:
            refusals.add(name, _("%(field)s is required.") % {"field": FIELD_LABELS[name]()}, code="required")
    code = cleaned.get("code")
    if code and check_code and "code" not in refusals:
        taken = PriceItem.objects.filter(code=code)
        if item is not None:
            taken = taken.exclude(pk=item.pk)
        if taken.exists():
            refusals.add("code", _("The code %(code)s is already used by another item.") % {"code": code}, "unique")
    refusals.raise_any()
    return cleaned


def _code_taken(code: str) -> ValidationError:
    return ValidationError(
        {"code": ValidationError(_("The code %(code)s is already used by another item.") % {"code": code}, "unique")}
    )


@transaction.atomic
def price_item_create(
    *,
    code: str,
    name: str,
    trade: str,
    unit: str,
    unit_price,
    kind: str = PriceItem.Kind.LABOUR_MATERIAL,
    cost_price=ZERO,
    description: str = "",
    brand_model: str = "",
    is_active: bool = True,
) -> PriceItem:
    data = price_item_check(
        code=code,
        name=name,
        kind=kind,
        trade=trade,
        unit=unit,
        unit_price=unit_price,
        cost_price=cost_price,
        description=description,
        brand_model=brand_model,
    )
    try:
        with transaction.atomic():
            return PriceItem.objects.create(**data, is_active=is_active)
    except IntegrityError as error:  # the same code, saved by someone else a moment ago
        raise _code_taken(data["code"]) from error


@transaction.atomic
def price_item_update(*, item: PriceItem, **changes) -> PriceItem:
    """Change the fields given (any of ``ITEM_FIELDS``, and ``is_active``). Quotations priced from the item
    keep their own copy."""
    active = changes.pop("is_active", None)
    data = price_item_check(item=item, **changes)
    item = PriceItem.objects.select_for_update().get(pk=item.pk)
    for name, value in data.items():
        setattr(item, name, value)
    if active is not None:
        item.is_active = bool(active)
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError as error:
        raise _code_taken(data.get("code", item.code)) from error
    return item


def price_item_retire(*, item: PriceItem) -> PriceItem:
    """No longer offered: left out of the suggestions and of new package lines; quotations and packages that
    use it keep it."""
    return price_item_update(item=item, is_active=False)


def price_item_reactivate(*, item: PriceItem) -> PriceItem:
    return price_item_update(item=item, is_active=True)


# Packages ---------------------------------------------------------------------------------------------------


def package_line_check(*, basis: str, quantity, room: str = "", price_item: PriceItem | None = None, **_ignored):
    """One package line's fields, cleaned: a known basis, a quantity of at least 0 (two decimals at most for a
    fixed quantity, three for a quantity per m²), a library item."""
    refusals = Refusals()
    if basis not in PricePackageLine.Basis.values:
        refusals.add("basis", _("Choose fixed quantity or per m² of floor area."), code="invalid_choice")
    number = _decimal(quantity)
    if number is None:
        refusals.add("quantity", _("The quantity must be a number."), code="invalid")
    elif number < 0:
        refusals.add("quantity", _("The quantity cannot be negative."), code="min_value")
    elif number >= QUANTITY_LIMIT:
        refusals.add("quantity", _("The quantity is too large."), code="max_value")
    elif basis in QUANTITY_PLACES:
        places = QUANTITY_PLACES[basis]
        if number != number.quantize(Decimal(1).scaleb(-places)):
            refusals.add(
                "quantity",
                _("The quantity has more than %(places)s decimals.") % {"places": places},
                code="decimal_places",
            )
    room = (room or "").strip()
    if len(room) > 50:
        refusals.add("room", _("The room is longer than 50 characters."), code="max_length")
    if price_item is None:
        refusals.add("price_item", _("Choose an item from the library."), code="required")
    refusals.raise_any()
    return {"basis": basis, "quantity": number, "room": room, "price_item": price_item}


def _package_check(*, name=None, package_type=None, package: PricePackage | None = None) -> dict:
    refusals = Refusals()
    cleaned = {}
    if name is not None or package is None:
        name = (name or "").strip()
        if not name:
            refusals.add("name", _("Give the package a name."), code="required")
        elif len(name) > 100:
            refusals.add("name", _("The name is longer than 100 characters."), code="max_length")
        else:
            taken = PricePackage.objects.filter(name=name)
            if package is not None:
                taken = taken.exclude(pk=package.pk)
            if taken.exists():
                refusals.add("name", _("Another package is called %(name)s.") % {"name": name}, code="unique")
        cleaned["name"] = name
    if package_type is not None or package is None:
        if package_type not in PackageType.values:
            refusals.add("package_type", _("Choose one of the package types."), code="invalid_choice")
        cleaned["package_type"] = package_type
    refusals.raise_any()
    return cleaned


def _set_lines(package: PricePackage, lines: list[dict]) -> None:
    """Replace the package's lines by ``lines``, in their order. A retired item may stay on a package that
    already has it, but is not added anew."""
    kept_items = set(package.lines.values_list("price_item_id", flat=True))
    rows, errors = [], []
    for number, line in enumerate(lines, start=1):
        try:
            data = package_line_check(**line)
        except ValidationError as error:
            errors.extend(
                _("Line %(number)s: %(message)s") % {"number": number, "message": message} for message in error.messages
            )
            continue
        item = data["price_item"]
        if not item.is_active and item.pk not in kept_items:
            errors.append(
                _("Line %(number)s: %(item)s is retired; reactivate it in the library first.")
                % {"number": number, "item": item}
            )
            continue
        rows.append(PricePackageLine(package=package, position=number, **data))
    if errors:
        raise ValidationError({"lines": errors})
    package.lines.all().delete()
    PricePackageLine.objects.bulk_create(rows)


@transaction.atomic
def price_package_create(
    *, name: str, package_type: str, description: str = "", lines: list[dict] | None = None, is_active: bool = True
) -> PricePackage:
    """A package with its lines (dicts of ``price_item``, ``basis``, ``quantity``, ``room``), in order."""
    data = _package_check(name=name, package_type=package_type)
    try:
        with transaction.atomic():
            package = PricePackage.objects.create(**data, description=description or "", is_active=is_active)
    except IntegrityError as error:
        raise ValidationError({"name": _("Another package is called %(name)s.") % {"name": data["name"]}}) from error
    _set_lines(package, lines or [])
    return package


@transaction.atomic
def price_package_update(
    *,
    package: PricePackage,
    name: str | None = None,
    package_type: str | None = None,
    description: str | None = None,
    is_active: bool | None = None,
    lines: list[dict] | None = None,
) -> PricePackage:
    """Change what is given; ``lines``, when given, replace the package's lines. Quotations filled from the
    package before keep their lines."""
    package = PricePackage.objects.select_for_update().get(pk=package.pk)
    data = _package_check(name=name, package_type=package_type, package=package)
    for key, value in data.items():
        setattr(package, key, value)
    if description is not None:
        package.description = description
    if is_active is not None:
        package.is_active = bool(is_active)
    try:
        with transaction.atomic():
            package.save()
    except IntegrityError as error:
        raise ValidationError({"name": _("Another package is called %(name)s.") % {"name": package.name}}) from error
    if lines is not None:
        _set_lines(package, lines)
    return package


def price_package_retire(*, package: PricePackage) -> PricePackage:
    return price_package_update(package=package, is_active=False)


def price_package_reactivate(*, package: PricePackage) -> PricePackage:
    return price_package_update(package=package, is_active=True)


def package_lines_for(package: PricePackage, area) -> list[dict]:
    """The quotation lines ``package`` gives a property of ``area`` m², in the package's order: a quantity per
    m² times the area, rounded to the hundredth half up; a fixed quantity as it is. Each line carries the
    library item's price, cost and brand at this moment (the quotation keeps its own copy):
    room, category, price_item (its id), code, name, unit, quantity, unit_price, cost_price, brand_model, note,
    discount."""
    area = _decimal(area)
    if area is None or area < 0:
        raise ValidationError({"area": _("Give the property's floor area in m² to fill a quotation from a package.")})
    lines = []
    for line in package.lines.select_related("price_item").order_by("position", "id"):
        item = line.price_item
        if line.basis == PricePackageLine.Basis.PER_AREA:
            quantity = (line.quantity * area).quantize(CENT, rounding=ROUND_HALF_UP)
        else:
            quantity = line.quantity.quantize(CENT, rounding=ROUND_HALF_UP)
        lines.append(
            {
                "room": line.room,
                "category": item.trade,
                "price_item": item.pk,
                "code": item.code,
                "name": item.name,
                "unit": item.unit,
                "quantity": quantity,
                "unit_price": item.unit_price,
                "cost_price": item.cost_price,
                "brand_model": item.brand_model,
                "note": "",
                "discount": ZERO,
            }
        )
    return lines


# The XLSX import --------------------------------------------------------------------------------------------


@dataclass
class ImportRow:
    """One row of an import file: its row number in the sheet and the fields it gives (only the columns the
    file has; ``is_active`` None when the row leaves it empty)."""

    number: int
    fields: dict
    is_active: bool | None = None
    # Problems found while reading the cells (an unknown trade, an active cell that is neither yes nor no),
    # and the columns they are in.
    errors: list[str] = field(default_factory=list)
    bad: set[str] = field(default_factory=set)


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


def _row_error(number: int, message: str) -> str:
    return _("Row %(row)s: %(message)s") % {"row": number, "message": message}


@transaction.atomic
def price_items_import(*, rows: list[ImportRow]) -> ImportResult:
    """Create or update the firm's items by code, all or nothing: any row in error refuses the whole file with
    every row's errors (``{"file": ["Row 12: …", …]}``) and changes nothing. Columns a file leaves out keep
    an existing item's values."""
    errors: list[str] = []
    codes = [str(row.fields.get("code") or "").strip() for row in rows]
    existing = {item.code: item for item in PriceItem.objects.select_for_update().filter(code__in=set(codes) - {""})}
    first_row: dict[str, int] = {}
    plans = []
    for row, code in zip(rows, codes, strict=True):
        messages = list(row.errors)
        if code and code in first_row:
            messages.append(_("the code %(code)s is also on row %(first)s.") % {"code": code, "first": first_row[code]})
        elif code:
            first_row[code] = row.number
        item = existing.get(code)
        try:
            # The codes were looked up together above: a row's code is its own item's or free.
            data = (
                price_item_check(item=item, check_code=False, **row.fields)
                if item is not None
                else _new_item_check(row.fields)
            )
        except ValidationError as error:
            messages.extend(_lower_first(message) for message in _messages(error, leave_out=row.bad))
        else:
            if not messages:
                plans.append((item, data, row.is_active))
        errors.extend(_row_error(row.number, message) for message in messages)
    if errors:
        raise ValidationError({"file": errors})
    result = ImportResult()
    new, changed = [], []
    now = timezone.now()
    for item, data, active in plans:
        if item is None:
            new.append(PriceItem(**data, is_active=True if active is None else active))
            continue
        before = {name: getattr(item, name) for name in [*data, "is_active"]}
        for name, value in data.items():
            setattr(item, name, value)
        if active is not None:
            item.is_active = active
        if any(getattr(item, name) != value for name, value in before.items()):
            item.updated_at = now  # bulk_update does not set auto_now fields
            changed.append(item)
        else:
            result.unchanged += 1
    try:
        with transaction.atomic():
            PriceItem.objects.bulk_create(new)
            if changed:
                PriceItem.objects.bulk_update(changed, [*ITEM_FIELDS, "is_active", "updated_at"])
    except IntegrityError as error:
        raise ValidationError(
            {"file": [_("Another change to the library was saved meanwhile; import the file again.")]}
        ) from error
    result.created, result.updated = len(new), len(changed)
    return result


def _new_item_check(fields: dict) -> dict:
    data = price_item_check(check_code=False, **fields)
    data.setdefault("kind", PriceItem.Kind.LABOUR_MATERIAL)
    data.setdefault("cost_price", ZERO)
    data.setdefault("description", "")
    data.setdefault("brand_model", "")
    return data


def _messages(error: ValidationError, *, leave_out=()) -> list[str]:
    """The messages of a refusal, but those about the fields in ``leave_out`` (said already)."""
    if hasattr(error, "error_dict"):
        return [
            message for name, messages in error.message_dict.items() if name not in leave_out for message in messages
        ]
    return list(error.messages)


def _lower_first(message: str) -> str:
    # "Row 12: unit price must be a number." reads as one sentence.
    return message[:1].lower() + message[1:] if message[:1].isascii() else message
