"""The weekly progress digest: an hourly sweep fans out to each active firm; each firm's task sends the
digests whose Monday 09:00 (firm time) has come. Safe to repeat: one notification per worksite and week."""

from celery import shared_task

from renocrm.celery import FirmTask
from renocrm.tenancy.models import Tenant
from worksites.services import portal as services


@shared_task
def sweep_weekly_digests():
    for tenant_id in Tenant.objects.filter(is_active=True).values_list("pk", flat=True):
        send_firm_weekly_digests.delay(tenant_id=tenant_id)


@shared_task(base=FirmTask)
def send_firm_weekly_digests():
    return services.weekly_digests_send()
