"""The one shape of a beat sweep over a firm's rows.

A sweeper's firm task (a ``FirmTask``, so one transaction) works through one bounded batch. Each row runs in
its own savepoint: a row that raises is rolled back alone, recorded as a ``SweepFailure`` with its error and
tried again after a backoff (10 minutes, doubling, at most a day), while the rest of the batch commits. A
row whose backoff has not passed is left out of the batch's query, so a poisoned row neither blocks the
others nor makes the sweep loop hot; once it goes through, its failure is deleted. A full batch enqueues
the next one after commit, a bounded number of times; the next beat carries on after that.

Exactly-once stays where it was: in the rows' markers and unique keys, which the savepoint keeps or rolls
back together with everything else the row did (its messages and events included)::

    sweep = Sweep("repair-sla")
    for repair in sweep.batch(RepairRequest.objects.select_for_update(skip_locked=True).filter(…)):
        raised += sweep.run(repair.pk, _raise_breaches, repair) or 0
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from renocrm.tenancy.context import require_current_tenant

from .models import SweepFailure

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
MAX_BATCHES = 20
FIRST_RETRY = timedelta(minutes=10)
LAST_RETRY = timedelta(days=1)
ERROR_LENGTH = 2000


def retry_delay(attempts: int) -> timedelta:
    """How long a row waits after its ``attempts``-th failure: 10 minutes, doubling, at most a day."""
    return min(FIRST_RETRY * 2 ** min(max(attempts - 1, 0), 16), LAST_RETRY)


class Sweep:
    """One batch of the sweeper ``name`` in the current firm. Rows are named by a key (``str(row.pk)``
    unless a sweeper says otherwise); ``run`` does one row's work in a savepoint."""

    def __init__(self, name: str, *, batch_size: int = BATCH_SIZE):
        self.name = name
        self.batch_size = batch_size
        # The backoff runs on the wall clock, whatever moment a service is asked to sweep as of.
        self.now = timezone.now()
        failures = SweepFailure.objects.filter(sweeper=name).values_list("row_key", "next_attempt_at")
        self._failing = {key: at for key, at in failures}
        self.held = {key for key, at in self._failing.items() if at > self.now}
        self.tried = 0
        self.failed = 0

    @property
    def full(self) -> bool:
        """The batch took as many rows as it may: more may be waiting."""
        return self.tried >= self.batch_size

    def batch(self, rows: QuerySet, *, key_field: str = "pk", size: int | None = None) -> QuerySet:
        """``rows`` without those waiting out a backoff, cut to one batch (``key_field`` holds the key)."""
        if self.held:
            rows = rows.exclude(**{f"{key_field}__in": list(self.held)})
        return rows[: size or self.batch_size]

    def run(self, key, work: Callable, /, *args, **kwargs):
        """Do ``work(*args, **kwargs)`` for the row ``key`` in a savepoint and return its result; None when
        the row is waiting out a backoff or failed (then its failure is recorded)."""
        key = str(key)
        if key in self.held:
            return None
        self.tried += 1
        try:
            with transaction.atomic():
                result = work(*args, **kwargs)
        except Exception as exc:  # any row's error: recorded, the rest of the batch goes on
            self.failed += 1
            self._record(key, exc)
            return None
        self.succeeded(key)
        return result

    def run_together(self, rows: list, work: Callable, /, *args, key: Callable = lambda row: row.pk, **kwargs) -> int:
        """Do ``work(rows, …)`` for the whole batch in one savepoint (one statement for many rows, where a
        sweeper has one); should it fail, do ``work([row], …)`` for each row on its own through ``run``, so
        only the row at fault waits out a backoff. ``work`` returns how many rows it handled, and must not
        depend on what a failed attempt left in the rows' Python objects."""
        if not rows:
            return 0
        try:
            with transaction.atomic():
                handled = work(rows, *args, **kwargs)
        except Exception:  # one row at fault, or several: find them one by one
            return sum(self.run(key(row), work, [row], *args, **kwargs) or 0 for row in rows)
        self.tried += len(rows)
        for row in rows:
            self.succeeded(key(row))
        return handled

    def succeeded(self, key) -> None:
        """The row went through (by ``run``, or with a whole batch): its failure, if any, is over."""
        key = str(key)
        if key in self._failing:
            SweepFailure.objects.filter(sweeper=self.name, row_key=key).delete()
            del self._failing[key]

    def continue_with(self, task, rounds: int) -> None:
        """After commit, enqueue ``task`` for the next batch if this one was full (at most MAX_BATCHES in a
        row). The rows this batch failed on wait out their backoff, so the next batch does not retake them."""
        if self.full and rounds + 1 < MAX_BATCHES:
            tenant_id = require_current_tenant().pk
            transaction.on_commit(lambda: task.delay(rounds=rounds + 1, tenant_id=tenant_id))

    def _record(self, key: str, exc: Exception) -> None:
        now = timezone.now()
        error = f"{type(exc).__name__}: {exc}"[:ERROR_LENGTH]
        failure = SweepFailure.objects.select_for_update().filter(sweeper=self.name, row_key=key).first()
        if failure is None:
            try:
                with transaction.atomic():
                    failure = SweepFailure.objects.create(
                        sweeper=self.name,
                        row_key=key,
                        error=error,
                        first_failed_at=now,
                        last_failed_at=now,
                        next_attempt_at=now + retry_delay(1),
                    )
            except IntegrityError:  # a concurrent sweep recorded it a moment ago
                failure = SweepFailure.objects.select_for_update().get(sweeper=self.name, row_key=key)
            else:
                self._log(failure, exc)
                self._failing[key] = failure.next_attempt_at
                self.held.add(key)
                return
        SweepFailure.objects.filter(pk=failure.pk).update(
            error=error,
            attempts=F("attempts") + 1,
            last_failed_at=now,
            next_attempt_at=now + retry_delay(failure.attempts + 1),
        )
        failure.refresh_from_db()
        self._log(failure, exc)
        self._failing[key] = failure.next_attempt_at
        self.held.add(key)

    def _log(self, failure: SweepFailure, exc: Exception) -> None:
        logger.warning(
            "Sweep %s: row %s failed (attempt %s); next try at %s",
            self.name,
            failure.row_key,
            failure.attempts,
            failure.next_attempt_at.isoformat(),
            exc_info=exc,
        )
