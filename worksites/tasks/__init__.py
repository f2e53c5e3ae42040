"""Celery tasks of construction and handover; importing the modules registers them with the worker."""

from . import handover, notices, portal, progress, reminders  # noqa: F401
