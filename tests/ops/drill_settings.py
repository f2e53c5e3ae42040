"""The production settings as the fault drills serve them (tests/ops/servers.py): everything from the
environment like production, except that pages render {% static %} without a collected manifest."""

from renocrm.settings.production import *  # noqa: F403
from renocrm.settings.production import STORAGES

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
