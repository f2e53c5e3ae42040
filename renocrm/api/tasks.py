from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from renocrm.celery import FirmTask, each_active_firm
from renocrm.sweeps.services import Sweep

from .models import IdempotencyRecord


@shared_task
def purge_idempotency_records():
    """Beat: fan out per firm; each firm's records are only visible inside its own scope."""
    each_active_firm(purge_firm_idempotency_records)


# The purge's name in renocrm.sweeps (its failures and backoff).
PURGE_SWEEP = "purge-idempotency-records"


@shared_task(base=FirmTask)
def purge_firm_idempotency_records(rounds: int = 0):
    """One bounded batch of expired records, deleted in one statement; should that fail, record by record,
    so a record that cannot be deleted waits out its backoff alone (``renocrm.sweeps``)."""
    sweep = Sweep(PURGE_SWEEP)
    cutoff = timezone.now() - timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS)
    expired = IdempotencyRecord.objects.filter(created_at__lt=cutoff).order_by("pk").values_list("pk", flat=True)
    purged = sweep.run_together(list(sweep.batch(expired)), _purge, key=lambda pk: pk)
    sweep.continue_with(purge_firm_idempotency_records, rounds)
    return purged


def _purge(pks: list[int]) -> int:
    return IdempotencyRecord.objects.filter(pk__in=pks).delete()[0]
