"""A lost lead the retention sweep cannot anonymise (the database refuses its write) is recorded with its
error and tried again after its backoff, while the other leads past retention are anonymised."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from leads.models import Lead
from leads.tasks import sweep_firm_lost_lead_retention
from renocrm.sweeps.models import SweepFailure
from tests.poison import cure, poison, poisoned_tables
from tests.privacy.test_retention import lost_lead

poisonable = poisoned_tables(("leads_lead", "id"))
pytestmark = pytest.mark.usefixtures("poisonable")


def run(firm, moment):
    with time_machine.travel(moment, tick=False):
        return sweep_firm_lost_lead_retention.delay(tenant_id=firm.pk).get()


def anonymised(firm, in_firm):
    with in_firm(firm):
        return set(Lead.objects.filter(anonymised_at__isnull=False).values_list("pk", flat=True))


def test_a_poisoned_lead_waits_and_the_other_lost_leads_are_anonymised(firm_a, in_firm):
    with in_firm(firm_a):
        first, bad, last = lost_lead(800), lost_lead(800), lost_lead(800)
    poison("leads_lead", bad.pk)
    now = timezone.now()

    assert run(firm_a, now) == 2
    assert anonymised(firm_a, in_firm) == {first.pk, last.pk}
    with in_firm(firm_a):
        failure = SweepFailure.objects.get()
        assert (failure.sweeper, failure.row_key, failure.attempts) == ("lost-lead-retention", str(bad.pk), 1)
        assert "poisoned row" in failure.error

    cure("leads_lead")
    assert run(firm_a, now + timedelta(minutes=5)) == 0, "still backing off"
    assert run(firm_a, now + timedelta(minutes=10)) == 1
    assert anonymised(firm_a, in_firm) == {first.pk, bad.pk, last.pk}
    with in_firm(firm_a):
        assert not SweepFailure.objects.exists()
