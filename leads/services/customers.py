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


@transaction.atomic
def property_create(
    *,
    customer: Customer,
    address: str,
    area: Decimal,
    layout: str = "",
    condition: str = Property.Condition.NEW,
    kind: str = Property.Kind.APARTMENT,
) -> Property:
    property_check(area=area)
    return Property.objects.create(
        customer=customer, address=address, area=area, layout=layout, condition=condition, kind=kind
    )


def property_check(**values) -> None:
    """The rules of a property beyond each field's own form (a rule whose value is not given is skipped)."""
    if "area" in values and values["area"] is not None and Decimal(values["area"]) <= 0:
        raise ValidationError({"area": _("The area must be more than 0 m².")})


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
