"""Thumbnails of progress photos, made after the post is saved so the foreman's upload returns quickly."""

from celery import shared_task

from renocrm.celery import FirmTask
from worksites.services import media as media_services
from worksites.services import progress as services


@shared_task(base=FirmTask)
def make_thumbnail(media_id):
    services.progress_media_make_thumbnail(media_id=media_id)


@shared_task(base=FirmTask)
def make_site_thumbnail(media_id):
    media_services.site_media_make_thumbnail(media_id=media_id)
