"""Developer machine: `make run` sets DATABASE_URL / REDIS_URL to the embedded servers unless given."""

import os

os.environ.setdefault("SECRET_KEY", "local-development-only-secret-key-not-for-production")
os.environ.setdefault("DEBUG", "true")

from .base import *  # noqa: E402,F403

# Serve static files straight from the apps: no collectstatic step on a developer machine.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
