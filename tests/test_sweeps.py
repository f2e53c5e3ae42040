"""The bounded sweep every beat sweeper shares (renocrm.sweeps): the backoff, and the platform sweepers whose
rows are files or purged records — one that fails waits out its backoff while the others go through."""

from datetime import timedelta

import pytest
import time_machine
from django.core.files.storage import FileSystemStorage
from django.utils import timezone

from renocrm.api.models import IdempotencyRecord
from renocrm.api.tasks import purge_firm_idempotency_records
from renocrm.media_sweep import media_sweep_orphans
from renocrm.sweeps.models import SweepFailure
from renocrm.sweeps.services import retry_delay
from renocrm.tenancy.context import tenant_context
from tests.factories import IdempotencyRecordFactory
from tests.poison import cure, poison, poisoned_tables
from tests.test_media import rolled_back_upload

poisonable = poisoned_tables(("api_idempotencyrecord", "id"))
pytestmark = pytest.mark.usefixtures("poisonable")


def test_the_backoff_doubles_from_ten_minutes_up_to_a_day():
    assert [retry_delay(n) for n in (1, 2, 3)] == [timedelta(minutes=m) for m in (10, 20, 40)]
    assert retry_delay(9) == timedelta(days=1) and retry_delay(50) == timedelta(days=1)


class RefusingStorage(FileSystemStorage):
    """The upload folder as an object store that answers one key with an error (a lock, an outage)."""

    refused: set[str] = set()

    def delete(self, name):
        if name in self.refused:
            raise OSError(f"storage refused to delete {name}")
        super().delete(name)


def test_an_orphan_file_storage_refuses_waits_and_the_other_orphans_are_deleted(firm_a):
    good, bad = rolled_back_upload(firm_a), rolled_back_upload(firm_a)
    storage = RefusingStorage()
    storage.refused = {bad}
    later = timezone.now() + timedelta(hours=25)

    def sweep(moment):
        with time_machine.travel(moment, tick=False), tenant_context(firm_a):
            return media_sweep_orphans(storage=storage)

    assert sweep(later) == 1
    assert not storage.exists(good) and storage.exists(bad)
    with tenant_context(firm_a):
        failure = SweepFailure.objects.get()
        assert (failure.sweeper, failure.row_key) == ("orphan-media", bad)
        assert "storage refused" in failure.error

    storage.refused = set()
    assert sweep(later + timedelta(minutes=5)) == 0, "still backing off"
    assert storage.exists(bad)
    assert sweep(later + timedelta(minutes=10)) == 1
    assert not storage.exists(bad)
    with tenant_context(firm_a):
        assert not SweepFailure.objects.exists()


def test_a_record_that_cannot_be_purged_waits_and_the_others_are_purged(firm_a, settings):
    settings.API_IDEMPOTENCY_TTL_HOURS = 24
    now = timezone.now()
    with time_machine.travel(now - timedelta(hours=25), tick=False), tenant_context(firm_a):
        first, bad, last = (IdempotencyRecordFactory() for _ in range(3))
    poison("api_idempotencyrecord", bad.pk)

    def purge(moment):
        with time_machine.travel(moment, tick=False):
            return purge_firm_idempotency_records.delay(tenant_id=firm_a.pk).get()

    def left():
        with tenant_context(firm_a):
            return set(IdempotencyRecord.objects.values_list("pk", flat=True))

    assert purge(now) == 2
    assert left() == {bad.pk}
    with tenant_context(firm_a):
        assert SweepFailure.objects.get().row_key == str(bad.pk)

    cure("api_idempotencyrecord")
    assert purge(now + timedelta(minutes=5)) == 0, "still backing off"
    assert purge(now + timedelta(minutes=10)) == 1
    assert left() == set()
    with tenant_context(firm_a):
        assert not SweepFailure.objects.exists()
