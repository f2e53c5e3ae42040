"""Timing the beat sweepers on the loaded data, in this process: Celery runs eagerly, so the beat task's
fan-out to each firm runs inline, and the clock is moved to the bench day.

Eagerly, the deliveries the sweep queues (SMS, e-mail, webhooks — separate tasks on the workers in
production) run inline too; the task signals split each sweep's time into the sweeper's own work and
those deliveries, and both are reported."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from celery.signals import task_postrun, task_prerun
from django.db import connections

DELIVERY_TASKS = {
    "renocrm.outbox.tasks.deliver_notifications",
    "renocrm.outbox.tasks.deliver_notification",
    "renocrm.outbox.tasks.deliver_webhook",
    "renocrm.outbox.tasks.dispatch_event",
}
# The hour of the bench day the sweeps run at, in the firms' time zone, when the dataset does not say.
SWEEP_HOUR = 12


class TaskClock:
    """Exclusive time per task name (a nested task's time is its own, not its caller's)."""

    def __init__(self):
        self.stack: list[list] = []
        self.seconds: dict[str, float] = {}
        self.runs: dict[str, int] = {}

    def prerun(self, task=None, **kwargs):
        self.stack.append([task.name, time.perf_counter(), 0.0])

    def postrun(self, task=None, **kwargs):
        name, started, children = self.stack.pop()
        elapsed = time.perf_counter() - started
        self.seconds[name] = self.seconds.get(name, 0.0) + elapsed - children
        self.runs[name] = self.runs.get(name, 0) + 1
        if self.stack:
            self.stack[-1][2] += elapsed

    def reset(self):
        self.seconds.clear()
        self.runs.clear()

    @property
    def delivery_seconds(self) -> float:
        return sum(seconds for name, seconds in self.seconds.items() if name in DELIVERY_TASKS)


def _count(sql: str, params=()) -> int:
    with connections["owner"].cursor() as cursor:  # the owner sees every firm's rows
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _tables():
    from aftercare.models import WarrantyReminder
    from callbacks.models import Callback
    from complaints.models import ComplaintEscalation
    from renocrm.outbox.models import Notification

    return {
        "callback": Callback._meta.db_table,
        "notification": Notification._meta.db_table,
        "reminder": WarrantyReminder._meta.db_table,
        "escalation": ComplaintEscalation._meta.db_table,
    }


def _callback_counts(day) -> dict:
    t = _tables()
    due_sql = f"SELECT count(*) FROM {t['callback']} WHERE status = 'scheduled' AND due_on <= %s"  # noqa: S608
    notice_sql = f"SELECT count(*) FROM {t['notification']} WHERE idempotency_key LIKE %s"  # noqa: S608
    return {
        "scheduled_due": _count(due_sql, [day]),
        "assigned_notices": _count(notice_sql, ["callback:%:released:%"]),
    }


def _run(task, clock: TaskClock) -> tuple[float, float]:
    clock.reset()
    started = time.perf_counter()
    task()
    total = time.perf_counter() - started
    return total, clock.delivery_seconds


def time_sweepers(dataset, rearm) -> dict:
    """Re-arm the swept rows, then time each sweeper once on the bench day and run it a second time to
    check that it does nothing more. Returns seconds and rows per sweeper, with the checks."""
    import time_machine

    from aftercare.tasks import sweep_warranty_reminders
    from callbacks.tasks import sweep_due_callbacks
    from complaints.tasks import sweep_complaint_escalations
    from renocrm.celery import app
    from renocrm.tenancy.models import Tenant

    started = time.perf_counter()
    rearm(dataset)
    rearm_seconds = time.perf_counter() - started
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    clock = TaskClock()
    task_prerun.connect(clock.prerun, weak=False)
    task_postrun.connect(clock.postrun, weak=False)
    moment = getattr(dataset, "sweep_now", None)
    if moment is None:
        zone = ZoneInfo(Tenant.objects.get(pk=dataset.largest.tenant_id).time_zone)
        moment = datetime.combine(dataset.bench_day, datetime.min.time(), tzinfo=zone) + timedelta(hours=SWEEP_HOUR)
    t = _tables()
    results = {"rearm_seconds": round(rearm_seconds, 2), "at": moment.isoformat()}
    try:
        with time_machine.travel(moment, tick=True):
            before = _callback_counts(dataset.bench_day)
            seconds, delivery = _run(sweep_due_callbacks, clock)
            after = _callback_counts(dataset.bench_day)
            again, _ = _run(sweep_due_callbacks, clock)
            later = _callback_counts(dataset.bench_day)
            released = before["scheduled_due"] - after["scheduled_due"]
            notices = after["assigned_notices"] - before["assigned_notices"]
            results["callbacks"] = {
                "seconds": round(seconds, 3),
                "seconds_without_deliveries": round(seconds - delivery, 3),
                "rows": released,
                "due_before": before["scheduled_due"],
                "left_due": after["scheduled_due"],
                "agent_notices": notices,
                "expected_rows": dataset.counts.get("due_callbacks"),
                "second_run_seconds": round(again, 3),
                "second_run_rows": after["scheduled_due"] - later["scheduled_due"],
                "second_run_notices": later["assigned_notices"] - after["assigned_notices"],
                "released_exactly_once": (
                    after["scheduled_due"] == 0
                    and later["scheduled_due"] == 0
                    and later["assigned_notices"] == after["assigned_notices"]
                    and notices <= released
                    and dataset.counts.get("due_callbacks", released) == released
                ),
            }
            for key, task, table, extra, expected in (
                (
                    "warranty_reminders",
                    sweep_warranty_reminders,
                    t["reminder"],
                    " WHERE NOT skipped",
                    "due_warranty_reminders",
                ),
                ("complaint_escalations", sweep_complaint_escalations, t["escalation"], "", "overdue_complaints"),
            ):
                count_sql = f"SELECT count(*) FROM {table}{extra}"  # noqa: S608
                first = _count(count_sql)
                seconds, delivery = _run(task, clock)
                second = _count(count_sql)
                again, _ = _run(task, clock)
                third = _count(count_sql)
                results[key] = {
                    "seconds": round(seconds, 3),
                    "seconds_without_deliveries": round(seconds - delivery, 3),
                    "rows": second - first,
                    "expected_rows": dataset.counts.get(expected),
                    "second_run_seconds": round(again, 3),
                    "second_run_rows": third - second,
                    "handled_exactly_once": third == second,
                }
    finally:
        task_prerun.disconnect(clock.prerun)
        task_postrun.disconnect(clock.postrun)
        app.conf.task_always_eager = False
    return results
