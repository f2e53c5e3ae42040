"""Production: differs from base only through environment variables, all of which are required here."""

from .base import *  # noqa: F403
from .env import env_bool, env_int, env_str

SITE_URL = env_str("SITE_URL").rstrip("/")  # required: links in SMS and e-mail point here

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
LOG_FORMAT = "json"
LOGGING["handlers"]["console"]["formatter"] = "json"  # noqa: F405
