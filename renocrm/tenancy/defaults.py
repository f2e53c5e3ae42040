"""A firm's own copy of a default the product ships (its phase template, its acceptance checklist, its
callback plan, its warranty coverage rules), made the first time the firm needs it."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import IntegrityError, models, transaction
from django.utils import translation

from renocrm.tenancy.context import require_current_tenant


def firm_copy_get(model: type[models.Model], *, default: Callable[[], Iterable[models.Model]]) -> list:
    """The current firm's rows of ``model``; when it has none yet, the unsaved rows ``default()`` builds are
    saved first. ``default`` runs in the firm's language: the defaults are the firm's own words from here
    on. A concurrent first request may seed the same rows; the firm's unique keys refuse the second copy."""
    rows = list(model.objects.all())
    if rows:
        return rows
    try:
        with transaction.atomic(), translation.override(require_current_tenant().language):
            model.objects.bulk_create(default())
    except IntegrityError:
        pass  # another request seeded them a moment ago
    return list(model.objects.all())
