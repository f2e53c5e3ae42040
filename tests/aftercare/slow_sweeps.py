"""Loaded into a worker drill's Celery worker (``celery worker -I tests.aftercare.slow_sweeps``): each warranty
reminder and each complaint escalation is counted in Redis and slowed down, so the test can kill the worker in
the middle of a sweep. The sweeps go to the test's own queue; the messages they queue for sending wait in a
queue nobody reads, so the test delivers them itself and counts every text."""

import os
import time

import redis

from aftercare.services import reminders as aftercare
from complaints.services import escalation as complaints
from renocrm.celery import app

DELAY = float(os.environ["DRILL_DELAY"])
progress = redis.Redis.from_url(os.environ["REDIS_URL"])


def counted_and_slow(function):
    def slow(*args, **kwargs):
        progress.incr(os.environ["DRILL_PROGRESS_KEY"])
        time.sleep(DELAY)
        return function(*args, **kwargs)

    return slow


aftercare._warranty_remind = counted_and_slow(aftercare._warranty_remind)
complaints._move_up = counted_and_slow(complaints._move_up)
app.conf.task_routes = {
    "aftercare.tasks.*": {"queue": os.environ["DRILL_QUEUE"]},
    "complaints.tasks.*": {"queue": os.environ["DRILL_QUEUE"]},
    "renocrm.outbox.tasks.*": {"queue": os.environ["DRILL_PARKED_QUEUE"]},
}
