"""Complaints factories; create inside tenant_context(firm)."""

from datetime import timedelta

import factory
from django.utils import timezone

from complaints.models import Complaint, ComplaintEntry, ComplaintEscalation, ComplaintSettings
from tests.contracts.factories import ProjectFactory


class ComplaintSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ComplaintSettings


class ComplaintFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Complaint

    project = factory.SubFactory(ProjectFactory)
    customer = factory.SelfAttribute("project.customer")
    channel = Complaint.Channel.PHONE
    category = Complaint.Category.QUALITY
    description = "Cracks in the living-room wall"
    opened_at = factory.LazyFunction(timezone.now)
    level_started_at = factory.SelfAttribute("opened_at")
    respond_by = factory.LazyAttribute(lambda o: o.opened_at + timedelta(hours=4))
    resolve_by = factory.LazyAttribute(lambda o: o.opened_at + timedelta(hours=48))


class ComplaintEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ComplaintEntry

    complaint = factory.SubFactory(ComplaintFactory)
    kind = ComplaintEntry.Kind.NOTE
    level = 1
    text = "Called the homeowner"
    at = factory.LazyFunction(timezone.now)


class ComplaintEscalationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ComplaintEscalation

    complaint = factory.SubFactory(ComplaintFactory)
    cycle = 1
    from_level = 1
    to_level = 2
    breach = ComplaintEscalation.Breach.RESPOND
    deadline = factory.LazyFunction(timezone.now)
