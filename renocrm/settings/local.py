"""Developer machine: `make run` sets DATABASE_URL / REDIS_URL to the embedded servers unless given.

DEBUG stays off unless the developer sets DEBUG=true: the port `make run` opens is often reachable from the
office network, and Django's debug pages show settings, source and, on any 404, the whole URL list. With
DEBUG off a visitor gets the app's own 404/403/500 pages and the traceback goes to the console."""

import os

os.environ.setdefault("SECRET_KEY", "local-development-only-secret-key-not-for-production")

from .base import *  # noqa: E402,F403

# Serve static files straight from the apps, with or without DEBUG: no collectstatic step on a developer
# machine, so no manifest of fingerprinted names either.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405

# Webhooks: a developer's receiver may speak plain http; private addresses still need
# WEBHOOK_ALLOW_PRIVATE_NETWORKS=true (renocrm/outbox/egress.py).
from .env import env_bool  # noqa: E402

WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", True)
