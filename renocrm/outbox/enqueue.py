"""Queueing a task after commit without letting a broker outage fail the request that wrote the row.

Every task queued here works on a row that records its own state (an undispatched event, an undelivered
webhook delivery, a pending notification), and a beat sweeper picks up such rows (renocrm/outbox/tasks.py).
So when Redis is unreachable the enqueue is skipped with a warning: the change is already committed, the
row stays pending, and the next sweep after Redis is back sends it — once, as the services claim each row.
"""

from __future__ import annotations

import logging

from django.db import transaction
from kombu.exceptions import OperationalError as BrokerUnavailable
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

BROKER_ERRORS = (BrokerUnavailable, RedisConnectionError, RedisTimeoutError)


def enqueue(task, **kwargs) -> bool:
    """Queue ``task`` now; False (logged) when the broker cannot be reached."""
    try:
        task.delay(**kwargs)
    except BROKER_ERRORS as error:
        logger.warning("Broker unavailable, %s left for the sweeper (%s): %s", task.name, kwargs, error)
        return False
    return True


def enqueue_on_commit(task, **kwargs) -> None:
    """Queue ``task`` once the current transaction commits (nothing if it rolls back)."""
    transaction.on_commit(lambda: enqueue(task, **kwargs))
