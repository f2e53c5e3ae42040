"""Deleting stored uploads that no row names any more.

A file reaches storage when its row is saved, inside the row's transaction, and storage is not transactional:
a request that rolls back (a refused form, a database error, two people saving at once) leaves its files
behind, and so does a file replaced by a newer one or whose row was deleted. They are photos of homeowners'
flats and signed documents, so they must not linger.

Rather than every service remembering to delete on rollback, on replace and on delete, one beat sweep per
firm compares what is stored with what is named: a file under one of the firm's upload folders
(``firms/<firm>/<app>/<model>/``, see ``renocrm.uploads.upload_to``) that no file field of any of the firm's
rows names, and that is older than ``MEDIA_ORPHAN_GRACE_HOURS``, is deleted. The grace period leaves alone
the files of transactions still open (and of a storage clock a little ahead). Nothing outside those folders
is looked at — firm export archives live elsewhere and have their own expiry.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.apps import apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import models
from django.utils import timezone

from renocrm.celery import FirmTask
from renocrm.sweeps.services import Sweep
from renocrm.tenancy.context import require_current_tenant
from renocrm.uploads import upload_to

logger = logging.getLogger(__name__)

_BATCH = 500
# The sweeper's name in renocrm.sweeps (its failures and backoff).
MEDIA_SWEEP = "orphan-media"


def _upload_fields() -> list[tuple[type[models.Model], str]]:
    """(model, field name) of every file field that stores under a firm's upload folders."""
    return [
        (model, field.name)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, models.FileField) and field.upload_to is upload_to
    ]


def _walk(storage, folder: str):
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        yield f"{folder}/{name}"
    for name in folders:
        yield from _walk(storage, f"{folder}/{name}")


def _stale_files(storage, folders, cutoff) -> list[str]:
    stale = []
    for folder in sorted(folders):
        for name in _walk(storage, folder):
            try:
                if storage.get_modified_time(name) < cutoff:
                    stale.append(name)
            except FileNotFoundError:  # deleted meanwhile
                continue
    return stale


def _named(fields, names: list[str]) -> set[str]:
    """Which of ``names`` a row of the current firm names, in any upload field of any model."""
    named: set[str] = set()
    for start in range(0, len(names), _BATCH):
        batch = names[start : start + _BATCH]
        for model, field in fields:
            named.update(model._default_manager.filter(**{f"{field}__in": batch}).values_list(field, flat=True))
    return named


def _delete(storage, name: str) -> int:
    storage.delete(name)
    return 1


def media_sweep_orphans(*, storage=None) -> int:
    """Delete the current firm's stored uploads that no row names and that are past the grace period;
    returns how many were deleted."""
    storage = storage or default_storage
    tenant = require_current_tenant()
    fields = _upload_fields()
    folders = {f"firms/{tenant.pk}/{model._meta.app_label}/{model._meta.model_name}" for model, _ in fields}
    cutoff = timezone.now() - timedelta(hours=settings.MEDIA_ORPHAN_GRACE_HOURS)
    # Files first, rows second: a row committed between the two is seen, so its file is kept.
    stale = _stale_files(storage, folders, cutoff)
    if not stale:
        return 0
    named = _named(fields, stale)
    # Each file on its own: one that storage refuses to delete is recorded and tried again after its backoff
    # (renocrm.sweeps), instead of stopping the files after it on every run.
    sweep = Sweep(MEDIA_SWEEP)
    deleted = 0
    for name in stale:
        if name in named:
            continue
        deleted += sweep.run(name, _delete, storage, name) or 0
    if deleted:
        logger.info("deleted %s stored upload(s) no record names any more", deleted)
    return deleted


@shared_task
def sweep_orphan_media():
    """Beat: one task per firm (deactivated firms too: their files are personal data all the same)."""
    from renocrm.tenancy.models import Tenant

    for tenant_id in Tenant.objects.values_list("pk", flat=True):
        sweep_firm_orphan_media.delay(tenant_id=tenant_id)


@shared_task(base=FirmTask)
def sweep_firm_orphan_media():
    return media_sweep_orphans()
