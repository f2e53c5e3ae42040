"""The hourly sweep that texts homeowners before each inspection, in each firm's own time zone; one bounded
batch per task, each inspection in its own savepoint (``renocrm.sweeps``)."""

from celery import shared_task

from renocrm.celery import FirmTask, each_active_firm
from renocrm.sweeps.services import Sweep
from worksites.services import notices as services


@shared_task
def sweep_inspection_notices():
    each_active_firm(send_inspection_notices)


@shared_task(base=FirmTask)
def send_inspection_notices(rounds: int = 0):
    sweep = Sweep(services.INSPECTION_NOTICE_SWEEP)
    sent = services.inspection_notices_send(sweep=sweep)
    sweep.continue_with(send_inspection_notices, rounds)
    return sent
