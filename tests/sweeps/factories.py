from datetime import timedelta

import factory
from django.utils import timezone

from renocrm.sweeps.models import SweepFailure


class SweepFailureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SweepFailure

    sweeper = "complaint-escalation"
    row_key = factory.Sequence(str)
    error = "IntegrityError: the row broke a rule"
    first_failed_at = factory.LazyFunction(timezone.now)
    last_failed_at = factory.LazyFunction(timezone.now)
    next_attempt_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=10))
