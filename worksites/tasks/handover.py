"""Handover tasks: the hourly sweep that raises overdue rectification items, once per deadline, in each
firm's own time zone; one bounded batch per task, each item in its own savepoint (``renocrm.sweeps``)."""

from celery import shared_task

from renocrm.celery import FirmTask, each_active_firm
from renocrm.sweeps.services import Sweep
from worksites.services import handover as services


@shared_task
def sweep_overdue_rectifications():
    each_active_firm(raise_overdue_rectifications)


@shared_task(base=FirmTask)
def raise_overdue_rectifications(rounds: int = 0):
    sweep = Sweep(services.OVERDUE_RECTIFICATION_SWEEP)
    raised = services.rectification_items_raise_overdue(sweep=sweep)
    sweep.continue_with(raise_overdue_rectifications, rounds)
    return raised
