"""Callbacks factories; create inside tenant_context(firm)."""

from datetime import date, timedelta

import factory
from django.utils import timezone

from callbacks.models import (
    Callback,
    CallbackAttempt,
    CallbackSettings,
    CallbackStep,
    Department,
    FeedbackFollowUp,
    Method,
    SecondaryDemand,
    Survey,
    SurveyDefect,
    SurveyDemand,
    SurveyMaterial,
)
from contracts.models import TradeCategory
from tests.worksites.factories import WorksiteFactory


class CallbackSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CallbackSettings


class CallbackStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CallbackStep

    name = "1 month after handover"
    offset = 1
    unit = CallbackStep.Unit.MONTHS
    position = factory.Sequence(lambda n: n + 1)


class CallbackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Callback

    worksite = factory.SubFactory(WorksiteFactory)
    project = factory.SelfAttribute("worksite.project")
    customer = factory.SelfAttribute("worksite.project.customer")
    step = factory.SubFactory(CallbackStepFactory)
    name = factory.SelfAttribute("step.name")
    due_on = factory.LazyFunction(date.today)
    method = Method.PHONE


class CallbackAttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CallbackAttempt

    callback = factory.SubFactory(CallbackFactory)
    method = Method.PHONE
    outcome = CallbackAttempt.Outcome.NO_ANSWER
    at = factory.LazyFunction(timezone.now)


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Survey

    callback = factory.SubFactory(CallbackFactory, status=Callback.Status.COMPLETED)
    via = Survey.Via.STAFF
    overall = 5
    nps = 9
    submitted_at = factory.LazyFunction(timezone.now)


class SurveyDefectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurveyDefect

    survey = factory.SubFactory(SurveyFactory)
    trade = TradeCategory.PAINTING
    kind = SurveyDefect.Kind.CRACK


class SurveyDemandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurveyDemand

    survey = factory.SubFactory(SurveyFactory)
    kind = SecondaryDemand.FURNITURE


class SurveyMaterialFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurveyMaterial

    survey = factory.SubFactory(SurveyFactory)
    item = "Wardrobe"
    brand = "Oppein"
    satisfaction = 2
    comment = "The doors do not close flush"


class FeedbackFollowUpFactory(factory.django.DjangoModelFactory):
    """A design follow-up opened by a survey that rated the designer 2 of 5, due in three days."""

    class Meta:
        model = FeedbackFollowUp

    survey = factory.SubFactory(SurveyFactory, designer_rating=2)
    callback = factory.SelfAttribute("survey.callback")
    department = Department.DESIGN
    triggers = factory.LazyFunction(lambda: [{"question": "designer_rating", "answer": 2}])
    opened_at = factory.LazyFunction(timezone.now)
    due_on = factory.LazyFunction(lambda: date.today() + timedelta(days=3))
