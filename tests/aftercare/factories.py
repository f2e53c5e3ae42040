"""Aftercare factories; create inside tenant_context(firm)."""

from datetime import date, timedelta

import factory
from django.utils import timezone

from aftercare.models import (
    AftercareSettings,
    Area,
    CareMessage,
    CareOptOut,
    Coverage,
    CoverageRule,
    RepairPhoto,
    RepairRequest,
    RepairVisit,
    WarrantyCard,
    WarrantyReminder,
)
from contracts.models import Instalment
from tests.contracts.factories import InstalmentFactory, ProjectFactory
from tests.leads.factories import CustomerFactory


class AftercareSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AftercareSettings


class CoverageRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CoverageRule

    name = "General works"
    months = 24
    position = factory.Sequence(lambda n: n + 1)


class CoverageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coverage

    project = factory.SubFactory(ProjectFactory)
    name = "General works"
    area = Area.WHOLE_HOME
    starts_on = factory.LazyFunction(lambda: date.today() - timedelta(days=30))
    ends_on = factory.LazyAttribute(lambda o: o.starts_on + timedelta(days=730))


class WarrantyCardFactory(factory.django.DjangoModelFactory):
    """A project's card with its own contract's final instalment; pass ``instalment`` for a project that has
    a contract already."""

    class Meta:
        model = WarrantyCard

    project = factory.SubFactory(ProjectFactory)
    customer = factory.SelfAttribute("project.customer")
    instalment = factory.SubFactory(
        InstalmentFactory,
        kind=Instalment.Kind.FINAL,
        trigger=Instalment.Trigger.ACCEPTANCE,
        paid_on=factory.LazyFunction(date.today),
        contract__project=factory.SelfAttribute("...project"),
    )
    issued_on = factory.LazyFunction(date.today)
    year = factory.LazyAttribute(lambda o: o.issued_on.year)
    sequence = factory.Sequence(lambda n: n + 1)
    number = factory.LazyAttribute(lambda o: f"BX-{o.year}-{o.sequence:04d}")


class WarrantyReminderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WarrantyReminder

    coverage = factory.SubFactory(CoverageFactory)
    days_before = 30
    sent_on = factory.LazyFunction(date.today)


class RepairRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RepairRequest

    project = factory.SubFactory(ProjectFactory)
    area = Area.BATHROOM
    description = "Water under the basin"
    reported_at = factory.LazyFunction(timezone.now)
    respond_by = factory.LazyAttribute(lambda o: o.reported_at + timedelta(hours=24))
    on_site_by = factory.LazyAttribute(lambda o: o.reported_at + timedelta(hours=72))


class RepairPhotoFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RepairPhoto

    repair = factory.SubFactory(RepairRequestFactory)
    file = "firms/0/aftercare/repairphoto/x.jpg"


class RepairVisitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RepairVisit

    repair = factory.SubFactory(RepairRequestFactory)
    kind = RepairVisit.Kind.CALL
    at = factory.LazyFunction(timezone.now)
    note = "Called the homeowner"


class CareOptOutFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CareOptOut

    customer = factory.SubFactory(CustomerFactory)


class CareMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CareMessage

    customer = factory.SubFactory(CustomerFactory)
    kind = CareMessage.Kind.BIRTHDAY
    occasion = factory.Sequence(lambda n: f"birthday:{2000 + n}")
    body = "Happy birthday"
