"""The hourly sweep that reminds the crew before each inspection, in each firm's own time zone."""

from celery import shared_task

from renocrm.celery import FirmTask, each_active_firm
from renocrm.sweeps.services import Sweep
from worksites.services import staff_reminders as services


@shared_task
def sweep_inspection_reminders():
    each_active_firm(send_inspection_reminders)


@shared_task(base=FirmTask)
def send_inspection_reminders(rounds: int = 0):
    sweep = Sweep(services.INSPECTION_REMINDER_SWEEP)
    sent = services.inspection_reminders_send(sweep=sweep)
    sweep.continue_with(send_inspection_reminders, rounds)
    return sent
