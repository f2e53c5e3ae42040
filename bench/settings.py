"""The production settings as `make bench` serves them: plain HTTP on loopback, persistent database
connections, and one bench-only middleware that reports each request's SQL query count.

Everything else is renocrm.settings.production, read from the environment the bench sets (bench/servers.py)."""

from renocrm.settings.production import *  # noqa: F403
from renocrm.settings.production import DATABASES, MIDDLEWARE, STORAGES

DEBUG = False

# One connection per worker thread, kept across requests and checked once before reuse.
DATABASES["default"]["CONN_MAX_AGE"] = 600
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# Outermost, so the count covers sessions, authentication, the firm's scope and the view.
MIDDLEWARE = ["bench.middleware.QueryCountMiddleware", *MIDDLEWARE]

# The bench fetches pages, not their assets: plain storage renders {% static %} without a collected manifest.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
