"""Contracts sweepers: beat fans out to each active firm; each firm's task handles one bounded batch in one
transaction and is safe to repeat (the messages' keys decide what was sent)."""

import logging

from celery import shared_task

from contracts.services import measurement_reminders, reminders
from renocrm.celery import FirmTask, each_active_firm
from renocrm.sweeps.services import Sweep

logger = logging.getLogger(__name__)


@shared_task
def sweep_measurement_reminders():
    each_active_firm(send_measurement_reminders)


@shared_task(base=FirmTask)
def send_measurement_reminders(rounds: int = 0):
    sweep = Sweep(measurement_reminders.MEASUREMENT_REMINDER_SWEEP)
    sent = measurement_reminders.measurement_reminders_send(sweep=sweep)
    sweep.continue_with(send_measurement_reminders, rounds)
    return sent


@shared_task
def sweep_payment_reminders():
    each_active_firm(send_payment_reminders)


@shared_task(base=FirmTask)
def send_payment_reminders(rounds: int = 0):
    sweep = Sweep(reminders.PAYMENT_REMINDER_SWEEP)
    sent = reminders.payment_reminders_send(sweep=sweep)
    sweep.continue_with(send_payment_reminders, rounds)
    return sent


@shared_task
def sweep_signed_copies():
    each_active_firm(render_waiting_signed_copies)


@shared_task(base=FirmTask)
def render_waiting_signed_copies(rounds: int = 0):
    """Make the PDF of each signed copy whose task never ran, a small batch at a time. A copy that cannot be
    made (no Chinese font on this worker) waits out the sweeper's backoff, so it is not retried every run."""
    from contracts import documents

    sweep = Sweep(documents.SIGNED_COPY_SWEEP, batch_size=documents.SIGNED_COPY_BATCH)
    made = 0
    for document_id in sweep.batch(documents.signed_copies_waiting()):
        made += sweep.run(document_id, documents.signed_document_render, document_id=document_id) is not None
    sweep.continue_with(render_waiting_signed_copies, rounds)
    return made


@shared_task(base=FirmTask)
def render_signed_document(document_id: int):
    """The PDF of a frozen signed copy, made once from its stored content (contracts.documents). A server that
    cannot make PDFs logs it and leaves the copy waiting: its first download renders it."""
    from contracts import documents

    try:
        documents.signed_document_render(document_id=document_id)
    except documents.PdfUnavailable:
        logger.exception("Signed copy %s not rendered.", document_id)
