"""Aftercare sweepers: beat fans out to each active firm; each firm's task handles one bounded batch in one
transaction, each row in its own savepoint (``renocrm.sweeps``), and is safe to repeat (markers on the rows
and unique keys decide what was done). A full batch enqueues the next after commit."""

from celery import shared_task

from aftercare.services import care, reminders, sla
from renocrm.celery import FirmTask, each_active_firm
from renocrm.sweeps.services import Sweep


@shared_task
def sweep_repair_sla():
    each_active_firm(raise_repair_sla_breaches)


@shared_task(base=FirmTask)
def raise_repair_sla_breaches(rounds: int = 0):
    sweep = Sweep(sla.REPAIR_SLA_SWEEP)
    raised = sla.repair_sla_raise_breaches(sweep=sweep)
    sweep.continue_with(raise_repair_sla_breaches, rounds)
    return raised


@shared_task
def sweep_warranty_reminders():
    each_active_firm(send_warranty_reminders)


@shared_task(base=FirmTask)
def send_warranty_reminders(rounds: int = 0):
    sweep = Sweep(reminders.WARRANTY_REMINDER_SWEEP)
    sent = reminders.warranty_reminders_send(sweep=sweep)
    sweep.continue_with(send_warranty_reminders, rounds)
    return sent


@shared_task
def sweep_member_care():
    each_active_firm(send_member_care)


@shared_task(base=FirmTask)
def send_member_care(rounds: int = 0):
    sweep = Sweep(care.MEMBER_CARE_SWEEP)
    sent = care.member_care_send(sweep=sweep)
    sweep.continue_with(send_member_care, rounds)
    return sent
