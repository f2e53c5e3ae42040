"""Callback tasks: the beat sweep that releases due callbacks in each firm, and the one that raises feedback
follow-ups past their deadline. Scheduling is data — the rows and their due dates — so a beat that was down
catches up on its next run, and nothing waits in the broker."""

from celery import shared_task
from django.db import transaction

from callbacks.services import follow_ups, overdue
from callbacks.services import release as services
from renocrm.celery import FirmTask, each_active_firm
from renocrm.sweeps.services import Sweep
from renocrm.tenancy.context import require_current_tenant


@shared_task
def sweep_due_callbacks():
    each_active_firm(sweep_firm_due_callbacks)


@shared_task(base=FirmTask)
def sweep_firm_due_callbacks(rounds: int = 0):
    """Release one batch of the firm's due callbacks: the task runs in one transaction, so one batch keeps
    its locks only as long as it needs them. A full batch may leave more behind: the next batch is
    enqueued once this one has committed (bounded; the next beat carries on after that)."""
    released = services.callbacks_release_due(limit=services.BATCH_SIZE, max_batches=1)
    # In its own savepoint: should the day's overdue count fail, the released callbacks stand.
    Sweep(overdue.OVERDUE_SWEEP).run("today", overdue.callbacks_overdue_announce)
    if released >= services.BATCH_SIZE and rounds + 1 < services.MAX_BATCHES:
        tenant_id = require_current_tenant().pk
        transaction.on_commit(lambda: sweep_firm_due_callbacks.delay(rounds=rounds + 1, tenant_id=tenant_id))
    return released


@shared_task
def sweep_overdue_follow_ups():
    each_active_firm(raise_overdue_follow_ups)


@shared_task(base=FirmTask)
def raise_overdue_follow_ups(rounds: int = 0):
    """One batch of the firm's follow-ups past their deadline; a full batch enqueues the next after commit."""
    sweep = Sweep(follow_ups.OVERDUE_SWEEP)
    raised = follow_ups.follow_ups_raise_overdue(sweep=sweep)
    sweep.continue_with(raise_overdue_follow_ups, rounds)
    return raised
