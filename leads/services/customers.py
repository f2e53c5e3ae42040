"""Writes for customers (one per mobile number) and their properties; one transaction each."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from leads.models import Customer, Property
from leads.services.checks import Refusals
from leads.validators import normalize_mobile, validate_mobile


def clean_mobile(mobile: str) -> str:
    """The mobile number as stored (``normalize_mobile``); refused on ``mobile`` if it is not one."""
    mobile = normalize_mobile(mobile)
    try:
        validate_mobile(mobile)
    except ValidationError as error:
        raise ValidationError({"mobile": error.messages}) from None
    return mobile


def customer_check(*, customer: Customer | None = None, **values) -> None:
    """The rules of a customer's details beyond each field's own form: a mobile number that is one and that
    no other customer has. Raises one ValidationError with every rule broken; a rule whose value is not in
    ``values`` is skipped (a form passes what it could read). ``customer``: the one being edited."""
    refusals = Refusals()
    if "mobile" in values:
        mobile = refusals.run(clean_mobile, values["mobile"])
        others = Customer.objects.exclude(pk=customer.pk) if customer is not None else Customer.objects.all()
        if mobile is not None and others.filter(mobile=mobile).exists():
            refusals.take(_known_mobile())
    refusals.raise_any()


@transaction.atomic
def customer_create(
    *, name: str, mobile: str, other_contacts: str = "", birthday: date | None = None, notes: str = ""
) -> Customer:
    customer_check(mobile=mobile)
    mobile = normalize_mobile(mobile)
    try:
        with transaction.atomic():
            return Customer.objects.create(
                name=name, mobile=mobile, other_contacts=other_contacts, birthday=birthday, notes=notes
            )
    except IntegrityError:
        # Another request created the same mobile between the check and the insert.
        raise _known_mobile() from None


def _known_mobile() -> ValidationError:
    # "duplicate": the API answers 409 Conflict, the pages show it on the field.
    return ValidationError(
        {"mobile": ValidationError(_("A customer with this mobile number already exists."), code="duplicate")}
    )


@transaction.atomic
def customer_update(*, customer: Customer, **fields) -> Customer:
    customer_check(customer=customer, **fields)
    if "mobile" in fields:
        fields["mobile"] = normalize_mobile(fields["mobile"])
    for name in ("name", "mobile", "other_contacts", "birthday", "notes"):
        if name in fields:
            setattr(customer, name, fields[name])
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError:
        raise _known_mobile() from None
    return customer


# The address in its parts, as the forms, the API and the services name them.
ADDRESS_PARTS = ("province", "city", "district", "street", "compound", "building_unit_room")
PROPERTY_FIELDS = (*ADDRESS_PARTS, "area", "layout", "condition", "kind")


def property_input(values: dict | None) -> dict | None:
    """A property given with another record, as ``property_create`` takes it: the parts not given are blank
    and the area is missing, so the rules check them all."""
    if values is None:
        return None
    return {**{part: "" for part in ADDRESS_PARTS}, "area": None, **values}


def _address_parts(values: dict) -> dict:
    return {part: (values[part] or "").strip() for part in ADDRESS_PARTS if part in values}


@transaction.atomic
def property_create(
    *,
    customer: Customer,
    area: Decimal | None,
    province: str = "",
    city: str = "",
    district: str = "",
    street: str = "",
    compound: str = "",
    building_unit_room: str = "",
    layout: str = "",
    condition: str = Property.Condition.NEW,
    kind: str = Property.Kind.APARTMENT,
) -> Property:
    parts = _address_parts(
        {
            "province": province,
            "city": city,
            "district": district,
            "street": street,
            "compound": compound,
            "building_unit_room": building_unit_room,
        }
    )
    property_check(area=area, **parts)
    home = Property(customer=customer, area=area, layout=layout.strip(), condition=condition, kind=kind, **parts)
    home.address = home.compose_address()
    home.save()
    return home


@transaction.atomic
def property_update(*, property: Property, **fields) -> Property:
    """Change a property's address parts, area, layout, condition or type; the one-line address follows."""
    fields = {name: value for name, value in fields.items() if name in PROPERTY_FIELDS}
    fields.update(_address_parts(fields))
    property_check(property=property, **fields)
    for name, value in fields.items():
        setattr(property, name, value.strip() if name == "layout" else value)
    if any(part in fields for part in ADDRESS_PARTS):
        property.address = property.compose_address()
    property.save()
    return property


def property_check(*, property: Property | None = None, **values) -> None:
    """The rules of a property beyond each field's own form; a rule whose values are not given is skipped (a
    form passes what it could read). The address is checked when any of its parts is given (with the parts
    ``property`` already has for those not given): a city, so the masked address shows where and no more,
    and a compound or a street, so the designer finds the home."""
    refusals = Refusals()
    if "area" in values:
        if values["area"] is None:
            refusals.add("area", _("Give the floor area."))
        elif Decimal(values["area"]) <= 0:
            refusals.add("area", _("The area must be more than 0 m²."))
    given = _address_parts(values)
    if given:
        parts = {part: getattr(property, part) for part in ADDRESS_PARTS} if property is not None else {}
        parts.update(given)
        if "city" in parts and not parts["city"]:
            refusals.add("city", _("Give the city."))
        if "compound" in parts and "street" in parts and not (parts["compound"] or parts["street"]):
            refusals.add("compound", _("Give the residential compound or the street and number."))
    refusals.raise_any()


def property_has_address(property: Property | None) -> bool:
    return property is not None and bool(property.address.strip())


def find_or_create_customer(*, name: str, mobile: str) -> tuple[Customer, bool]:
    """The duplicate guard: a known mobile links the existing customer instead of creating a second one."""
    mobile = clean_mobile(mobile)
    existing = Customer.objects.select_for_update().filter(mobile=mobile).first()
    if existing is not None:
        return existing, True
    try:
        with transaction.atomic():
            return Customer.objects.create(name=name, mobile=mobile), False
    except IntegrityError:
        # Another request created the same mobile a moment ago: link it.
        return Customer.objects.get(mobile=mobile), True
