"""Personal-data tasks: building the firm's full export, queueing again an export whose task was lost, and
deleting exports past their retention."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from renocrm.celery import FirmTask, each_active_firm
from renocrm.sweeps.services import Sweep
from renocrm.tenancy.models import Tenant

from . import exports


@shared_task(base=FirmTask, time_limit=3600, soft_time_limit=3500)
def build_firm_export(export_id: int):
    export = exports.firm_export_build(export_id=export_id)
    return export.status if export is not None else None


# An export normally starts within seconds; one still waiting after this was never queued (the broker was
# down when it was asked for) or its task was lost.
WAITING_GRACE = timedelta(minutes=10)
# The requeue sweeper's name in renocrm.sweeps (its failures and backoff).
WAITING_SWEEP = "firm-export-requeue"


@shared_task
def sweep_waiting_exports():
    each_active_firm(sweep_firm_waiting_exports)


@shared_task(base=FirmTask)
def sweep_firm_waiting_exports():
    """Queue each waiting export's build again (building twice builds once). Each build is its own task and
    keeps a failure on its export (FAILED, with the error); one that cannot even be queued, or that fails
    while run in place (eager), is recorded and retried with backoff (``renocrm.sweeps``)."""
    sweep = Sweep(WAITING_SWEEP)
    waiting = exports.waiting_export_ids(before=timezone.now() - WAITING_GRACE)
    for export_id in waiting:
        sweep.run(export_id, build_firm_export.delay, export_id=export_id)
    return sweep.tried - sweep.failed


@shared_task
def sweep_expired_exports():
    # Every firm, a switched-off one too: its exports hold personal data all the same.
    for tenant_id in Tenant.objects.values_list("pk", flat=True):
        expire_firm_exports.delay(tenant_id=tenant_id)


@shared_task(base=FirmTask)
def expire_firm_exports():
    return exports.firm_exports_expire()
