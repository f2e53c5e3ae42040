"""Leads factories; create inside tenant_context(firm)."""

import itertools
from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from leads.models import Customer, FollowUp, Lead, LeadSettings, LeadStatusChange, Property, ReferralReward


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"业主{n}")
    mobile = factory.Sequence(lambda n: f"139{n:08d}")


_ADDRESS_PARTS = ("province", "city", "district", "street", "compound", "building_unit_room")


class PropertyFactory(factory.django.DjangoModelFactory):
    """A home in its address parts, with the one-line address composed as the service composes it. Given only
    ``address`` (as before the parts existed), the address stays whole and is the street, as the migration
    left such addresses."""

    class Meta:
        model = Property

    customer = factory.SubFactory(CustomerFactory)
    area = Decimal("98.50")
    layout = "3室2厅"

    @classmethod
    def _adjust_kwargs(cls, **kwargs):
        if any(kwargs.get(part) for part in _ADDRESS_PARTS) or not kwargs.get("address"):
            if not any(kwargs.get(part) for part in _ADDRESS_PARTS):
                n = next(_homes)
                kwargs.update(city="上海市", district="浦东新区", street=f"锦绣路{n}号", compound="锦绣花园")
                kwargs["building_unit_room"] = f"{n % 30 + 1}-1-{n % 20 + 1}02"
            kwargs["address"] = Property(**{part: kwargs.get(part, "") for part in _ADDRESS_PARTS}).compose_address()
        else:
            kwargs["street"] = kwargs["address"]
        return kwargs


_homes = itertools.count(1)


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    class Params:
        # A lead with the customer's home, as a measurement appointment needs.
        with_property = factory.Trait(
            property=factory.SubFactory(PropertyFactory, customer=factory.SelfAttribute("..customer"))
        )

    customer = factory.SubFactory(CustomerFactory)
    channel = Lead.Channel.ONLINE


class LeadStatusChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadStatusChange

    lead = factory.SubFactory(LeadFactory)
    from_status = Lead.Status.NEW
    to_status = Lead.Status.CONTACTED


class FollowUpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowUp

    lead = factory.SubFactory(LeadFactory)
    kind = FollowUp.Kind.CALL
    at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    outcome = "Wants a quotation for the kitchen and two bathrooms"


class ReferralRewardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReferralReward

    referrer = factory.SubFactory(CustomerFactory)
    lead = factory.SubFactory(LeadFactory, channel=Lead.Channel.REFERRAL, referrer=factory.SelfAttribute("..referrer"))
    amount = Decimal("500.00")


class LeadSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadSettings
