"""Lead tasks: the beat sweep of the firm's lost-lead retention rule, fanned out per firm."""

from celery import shared_task
from django.db import transaction

from renocrm.celery import FirmTask, each_active_firm
from renocrm.tenancy.context import require_current_tenant

from .services.privacy import lost_leads_anonymise

BATCH_SIZE = 500
MAX_ROUNDS = 20


@shared_task
def sweep_lost_lead_retention():
    each_active_firm(sweep_firm_lost_lead_retention)


@shared_task(base=FirmTask)
def sweep_firm_lost_lead_retention(rounds: int = 0):
    """One batch of the firm's lost leads past retention, in one transaction. A full batch may leave more
    behind: the next is enqueued once this one has committed (bounded; the next beat carries on)."""
    done = lost_leads_anonymise(batch=BATCH_SIZE)
    if done >= BATCH_SIZE and rounds + 1 < MAX_ROUNDS:
        tenant_id = require_current_tenant().pk
        transaction.on_commit(lambda: sweep_firm_lost_lead_retention.delay(rounds=rounds + 1, tenant_id=tenant_id))
    return done
