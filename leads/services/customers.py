"""Writes for customers (one per mobile number) and their properties; one transaction each."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from leads.models import Customer, Property
from leads.validators import normalize_mobile, validate_mobile


def _clean_mobile(mobile: str) -> str:
    mobile = normalize_mobile(mobile)
    try:
        validate_mobile(mobile)
    except ValidationError as error:
        raise ValidationError({"mobile": error.messages}) from None
    return mobile


@transaction.atomic
def customer_create(
    *, name: str, mobile: str, other_contacts: str = "", birthday: date | None = None, notes: str = ""
) -> Customer:
    mobile = _clean_mobile(mobile)
    if Customer.objects.filter(mobile=mobile).exists():
        raise _known_mobile()
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
    if "mobile" in fields:
        fields["mobile"] = _clean_mobile(fields["mobile"])
        if Customer.objects.filter(mobile=fields["mobile"]).exclude(pk=customer.pk).exists():
            raise _known_mobile()
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
    if Decimal(area) <= 0:
        raise ValidationError({"area": _("The area must be more than 0 m².")})
    return Property.objects.create(
        customer=customer, address=address, area=area, layout=layout, condition=condition, kind=kind
    )


def find_or_create_customer(*, name: str, mobile: str) -> tuple[Customer, bool]:
    """The duplicate guard: a known mobile links the existing customer instead of creating a second one."""
    mobile = _clean_mobile(mobile)
    existing = Customer.objects.select_for_update().filter(mobile=mobile).first()
    if existing is not None:
        return existing, True
    try:
        with transaction.atomic():
            return Customer.objects.create(name=name, mobile=mobile), False
    except IntegrityError:
        # Another request created the same mobile a moment ago: link it.
        return Customer.objects.get(mobile=mobile), True
