"""Complaint tasks: the five-minute sweep that moves a complaint whose clock ran out one level up, once
per breach."""

from celery import shared_task

from complaints import services
from renocrm.celery import FirmTask, each_active_firm


@shared_task
def sweep_complaint_escalations():
    each_active_firm(escalate_complaints)


@shared_task(base=FirmTask)
def escalate_complaints():
    services.complaints_escalate_overdue()
