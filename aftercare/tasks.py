"""Aftercare sweepers: beat fans out to each active firm; each firm's task is set-based and safe to repeat
(markers on the rows and unique keys decide what was done)."""

from celery import shared_task

from aftercare import services
from renocrm.celery import FirmTask, each_active_firm


@shared_task
def sweep_repair_sla():
    each_active_firm(raise_repair_sla_breaches)


@shared_task(base=FirmTask)
def raise_repair_sla_breaches():
    return services.repair_sla_raise_breaches()


@shared_task
def sweep_warranty_reminders():
    each_active_firm(send_warranty_reminders)


@shared_task(base=FirmTask)
def send_warranty_reminders():
    return services.warranty_reminders_send()


@shared_task
def sweep_member_care():
    each_active_firm(send_member_care)


@shared_task(base=FirmTask)
def send_member_care():
    return services.member_care_send()
