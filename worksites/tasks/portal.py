"""The weekly progress digest: an hourly sweep fans out to each active firm; each firm's task sends one
bounded batch of the digests whose Monday 09:00 (firm time) has come, each worksite in its own savepoint
(``renocrm.sweeps``). Safe to repeat: one notification per worksite and week."""

from celery import shared_task

from renocrm.celery import FirmTask, each_active_firm
from renocrm.sweeps.services import Sweep
from worksites.services import portal as services


@shared_task
def sweep_weekly_digests():
    each_active_firm(send_firm_weekly_digests)


@shared_task(base=FirmTask)
def send_firm_weekly_digests(rounds: int = 0):
    sweep = Sweep(services.WEEKLY_DIGEST_SWEEP)
    sent = services.weekly_digests_send(sweep=sweep)
    sweep.continue_with(send_firm_weekly_digests, rounds)
    return sent
