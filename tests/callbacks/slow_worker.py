"""Loaded into a test's Celery worker (``celery worker -I tests.callbacks.slow_worker``): small sweeper
batches, each callback slowed down, so the test can kill the worker in the middle of a batch. The worker's
sweep tasks go to the test's own queue; the messages it queues for sending wait in a queue nobody reads,
so the test delivers them itself and counts every text."""

import os
import time

from callbacks.services import release as services
from renocrm.celery import app

services.BATCH_SIZE = int(os.environ["CALLBACKS_TEST_BATCH"])
DELAY = float(os.environ["CALLBACKS_TEST_DELAY"])
release_one = services._release_one


def slow_release_one(*args, **kwargs):
    time.sleep(DELAY)
    return release_one(*args, **kwargs)


services._release_one = slow_release_one
app.conf.task_routes = {
    "callbacks.tasks.*": {"queue": os.environ["CALLBACKS_TEST_QUEUE"]},
    "renocrm.outbox.tasks.*": {"queue": os.environ["CALLBACKS_TEST_PARKED_QUEUE"]},
}
