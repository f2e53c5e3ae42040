"""Handover tasks: the hourly sweep that raises overdue rectification items, once per deadline, in each
firm's own time zone."""

from celery import shared_task

from renocrm.celery import FirmTask, each_active_firm
from worksites.services import handover as services


@shared_task
def sweep_overdue_rectifications():
    each_active_firm(raise_overdue_rectifications)


@shared_task(base=FirmTask)
def raise_overdue_rectifications():
    services.rectification_items_raise_overdue()
