"""Personal-data tasks: building the firm's full export."""

from celery import shared_task

from renocrm.celery import FirmTask

from . import exports


@shared_task(base=FirmTask, time_limit=3600, soft_time_limit=3500)
def build_firm_export(export_id: int):
    export = exports.firm_export_build(export_id=export_id)
    return export.status if export is not None else None
