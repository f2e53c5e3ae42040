from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from renocrm.celery import FirmTask
from renocrm.tenancy.models import Tenant

from .models import IdempotencyRecord


@shared_task
def purge_idempotency_records():
    """Beat: fan out per firm; each firm's records are only visible inside its own scope."""
    for tenant_id in Tenant.objects.filter(is_active=True).values_list("pk", flat=True):
        purge_firm_idempotency_records.delay(tenant_id=tenant_id)


@shared_task(base=FirmTask)
def purge_firm_idempotency_records():
    cutoff = timezone.now() - timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS)
    IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
