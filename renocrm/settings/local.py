"""Developer machine: `make run` sets DATABASE_URL / REDIS_URL to the embedded servers unless given."""

import os

os.environ.setdefault("SECRET_KEY", "local-development-only-secret-key-not-for-production")
os.environ.setdefault("DEBUG", "true")

from .base import *  # noqa: E402,F403

# Serve static files straight from the apps: no collectstatic step on a developer machine.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Webhooks: a developer's receiver may speak plain http; private addresses still need
# WEBHOOK_ALLOW_PRIVATE_NETWORKS=true (renocrm/outbox/egress.py).
from .env import env_bool  # noqa: E402

WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", True)
