from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from renocrm.celery import FirmTask, each_active_firm

from .models import IdempotencyRecord


@shared_task
def purge_idempotency_records():
    """Beat: fan out per firm; each firm's records are only visible inside its own scope."""
    each_active_firm(purge_firm_idempotency_records)


@shared_task(base=FirmTask)
def purge_firm_idempotency_records():
    cutoff = timezone.now() - timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS)
    IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
