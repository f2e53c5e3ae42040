"""The weekly callback report: an hourly sweep fans out to each active firm; each firm's task e-mails last
week's report to its admins once its Monday 08:00 has come. Safe to repeat: one e-mail per week and
recipient."""

from celery import shared_task

from renocrm.celery import FirmTask, each_active_firm

from .reports import weekly_email


@shared_task
def sweep_weekly_callback_reports():
    each_active_firm(send_weekly_callback_report)


@shared_task(base=FirmTask)
def send_weekly_callback_report():
    return weekly_email.weekly_callback_report_send()
