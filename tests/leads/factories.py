"""Leads factories; create inside tenant_context(firm)."""

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


class PropertyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Property

    customer = factory.SubFactory(CustomerFactory)
    address = factory.Sequence(lambda n: f"上海市浦东新区锦绣路{n}号")
    area = Decimal("98.50")
    layout = "3室2厅"


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

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
