"""The weekly progress digest: an hourly sweep fans out to each active firm; each firm's task sends the
digests whose Monday 09:00 (firm time) has come. Safe to repeat: one notification per worksite and week."""

from celery import shared_task

from renocrm.celery import FirmTask, each_active_firm
from worksites.services import portal as services


@shared_task
def sweep_weekly_digests():
    each_active_firm(send_firm_weekly_digests)


@shared_task(base=FirmTask)
def send_firm_weekly_digests():
    return services.weekly_digests_send()
