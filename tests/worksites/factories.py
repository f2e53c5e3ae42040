"""Worksites factories; create inside tenant_context(firm)."""

from datetime import date, timedelta

import factory

from tests.contracts.factories import ContractFactory
from worksites.models import Phase, PhaseKind, PhaseTemplate, TechnicalHandover, Worksite


class PhaseTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PhaseTemplate

    position = factory.Sequence(lambda n: n + 1)
    kind = PhaseKind.CARPENTRY
    name = "Carpentry"
    duration_days = 10


class WorksiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Worksite

    contract = factory.SubFactory(ContractFactory)
    project = factory.SelfAttribute("contract.project")


class PhaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Phase

    worksite = factory.SubFactory(WorksiteFactory)
    position = factory.Sequence(lambda n: n + 1)
    kind = PhaseKind.DEMOLITION
    name = "Demolition"
    planned_start = factory.LazyFunction(date.today)
    planned_end = factory.LazyFunction(lambda: date.today() + timedelta(days=4))


class TechnicalHandoverFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TechnicalHandover

    worksite = factory.SubFactory(WorksiteFactory)
    held_on = factory.LazyFunction(date.today)
    existing_facilities = "Walls sound; old wiring to be replaced"
