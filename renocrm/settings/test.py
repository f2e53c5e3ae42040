"""Tests: real PostgreSQL and Redis (named by the environment, else the local servers), eager Celery."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("DATABASE_URL", "postgres://renocrm_app:renocrm_app@127.0.0.1:5432/renocrm")
os.environ.setdefault("DATABASE_OWNER_URL", "postgres://postgres@127.0.0.1:5432/renocrm")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("CACHE_KEY_PREFIX", f"renocrm-test-{os.getpid()}")

from .base import *  # noqa: E402,F403
from .env import env_bool  # noqa: E402

# Tests serve static files from the finders; no collectstatic manifest is needed.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Unit tests run tasks inline; the real-worker tests start a worker process with this switched off.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)
CELERY_TASK_EAGER_PROPAGATES = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SMS_BACKEND = "renocrm.outbox.sms.LocmemBackend"
MEDIA_ROOT = BASE_DIR / "var" / "test-media"  # noqa: F405
for database in DATABASES.values():  # noqa: F405
    database["CONN_MAX_AGE"] = 0
    database["CONN_HEALTH_CHECKS"] = False
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# Webhooks: plain http is fine in tests, private addresses are not; a test with a receiver on loopback allows
# them itself (settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True).
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", True)
# No test reaches a real SMS gateway or WeCom: unless a test starts a local fake, they point at a closed port.
SMS_ENDPOINT = "http://127.0.0.1:9"
SMS_PROVIDER_ENDPOINTS = {"aliyun": "http://127.0.0.1:9", "tencent": "http://127.0.0.1:9"}
WECOM_WEBHOOK_URL = "http://127.0.0.1:9/cgi-bin/webhook/send"
