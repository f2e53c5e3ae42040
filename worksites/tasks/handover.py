"""Handover tasks: the hourly sweep that raises overdue rectification items, once per deadline, in each
firm's own time zone."""

from celery import shared_task

from renocrm.celery import FirmTask
from renocrm.tenancy.models import Tenant
from worksites.services import handover as services


@shared_task
def sweep_overdue_rectifications():
    for tenant_id in Tenant.objects.filter(is_active=True).values_list("pk", flat=True):
        raise_overdue_rectifications.delay(tenant_id=tenant_id)


@shared_task(base=FirmTask)
def raise_overdue_rectifications():
    services.rectification_items_raise_overdue()
