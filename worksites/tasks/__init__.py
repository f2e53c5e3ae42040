"""Celery tasks of construction and handover; importing the modules registers them with the worker."""

from . import handover, portal, progress  # noqa: F401
