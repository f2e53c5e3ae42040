"""A firm export the expiry or requeue sweep cannot handle (the database refuses its write) is recorded with
its error and tried again after its backoff, while the firm's other exports are expired or built."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from renocrm.privacy.models import FirmExport
from renocrm.privacy.tasks import expire_firm_exports, sweep_firm_waiting_exports
from renocrm.sweeps.models import SweepFailure
from renocrm.tenancy.context import tenant_context
from tests.factories import MembershipFactory
from tests.poison import cure, poison, poisoned_tables
from tests.privacy.factories import FirmExportFactory
from tests.privacy.test_export_expiry import ready_export

poisonable = poisoned_tables(("privacy_firmexport", "id"))
pytestmark = pytest.mark.usefixtures("poisonable")


def run(task, firm, moment):
    with time_machine.travel(moment, tick=False):
        return task.delay(tenant_id=firm.pk).get()


def statuses(firm):
    with tenant_context(firm):
        return dict(FirmExport.objects.values_list("pk", "status"))


def test_a_poisoned_export_waits_and_the_others_expire(firm_a, settings):
    settings.PERSONAL_EXPORT_RETENTION_DAYS = 7
    user = MembershipFactory(tenant=firm_a).user
    good, bad = (ready_export(firm_a, user, age=timedelta(days=8)) for _ in range(2))
    poison("privacy_firmexport", bad.pk)
    now = timezone.now()

    assert run(expire_firm_exports, firm_a, now) == 1
    assert statuses(firm_a) == {good.pk: "expired", bad.pk: "done"}
    with tenant_context(firm_a):
        failure = SweepFailure.objects.get()
        assert (failure.sweeper, failure.row_key) == ("firm-export-expiry", str(bad.pk))
        assert "poisoned row" in failure.error

    cure("privacy_firmexport")
    assert run(expire_firm_exports, firm_a, now + timedelta(minutes=5)) == 0, "still backing off"
    assert run(expire_firm_exports, firm_a, now + timedelta(minutes=10)) == 1
    assert statuses(firm_a) == {good.pk: "expired", bad.pk: "expired"}
    with tenant_context(firm_a):
        assert not SweepFailure.objects.exists()


def test_a_poisoned_waiting_export_waits_and_the_others_are_built(firm_a):
    user = MembershipFactory(tenant=firm_a).user
    now = timezone.now()
    with time_machine.travel(now - timedelta(minutes=15), tick=False), tenant_context(firm_a):
        good, bad = (FirmExportFactory(requested_by=user) for _ in range(2))
    poison("privacy_firmexport", bad.pk)

    assert run(sweep_firm_waiting_exports, firm_a, now) == 1
    assert statuses(firm_a) == {good.pk: "done", bad.pk: "pending"}
    with tenant_context(firm_a):
        assert SweepFailure.objects.get().row_key == str(bad.pk)

    cure("privacy_firmexport")
    assert run(sweep_firm_waiting_exports, firm_a, now + timedelta(minutes=5)) == 0, "still backing off"
    assert run(sweep_firm_waiting_exports, firm_a, now + timedelta(minutes=10)) == 1
    assert statuses(firm_a)[bad.pk] == "done"
    with tenant_context(firm_a):
        assert not SweepFailure.objects.exists()
