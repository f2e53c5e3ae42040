"""Factories of the staff pages' records (call inside tenant_context(firm))."""

from datetime import timedelta

import factory
from django.utils import timezone

from renocrm.accounts.models import CalendarFeed, StaffChange, StaffInvitation
from renocrm.accounts.roles import Role
from renocrm.tokens import token_digest, token_generate
from tests.factories import StaffFactory


class StaffInvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffInvitation

    name = factory.Faker("name")
    mobile = factory.Sequence(lambda n: f"139{n:08d}")
    email = ""
    roles = factory.LazyFunction(lambda: [Role.SALES])
    invited_by = factory.SubFactory(StaffFactory)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


class StaffChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffChange

    member = factory.SubFactory(StaffFactory)
    action = StaffChange.Action.ROLES_CHANGED
    details = factory.LazyFunction(lambda: {"roles": [["sales"], ["sales", "designer"]]})


class CalendarFeedFactory(factory.django.DjangoModelFactory):
    """Call inside tenant_context(firm). ``token`` is set on the instance for the test to fetch the feed."""

    class Meta:
        model = CalendarFeed

    user = factory.SubFactory(StaffFactory)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        token, prefix = token_generate()
        obj = model_class.objects.create(*args, prefix=prefix, hashed_token=token_digest(token), **kwargs)
        obj.token = token
        return obj
