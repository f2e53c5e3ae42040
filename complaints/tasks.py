"""Complaint tasks: the five-minute sweep that moves a complaint whose clock ran out one level up, once
per breach."""

from celery import shared_task

from complaints.services import escalation as services
from renocrm.celery import FirmTask, each_active_firm
from renocrm.sweeps.services import Sweep


@shared_task
def sweep_complaint_escalations():
    each_active_firm(escalate_complaints)


@shared_task(base=FirmTask)
def escalate_complaints(rounds: int = 0):
    """One batch of the firm's overdue complaints; a full batch enqueues the next after commit."""
    sweep = Sweep(services.ESCALATION_SWEEP)
    handled = services.complaints_escalate_overdue(sweep=sweep)
    sweep.continue_with(escalate_complaints, rounds)
    return handled
