"""Production: differs from base only through environment variables, all of which are required here."""

from .base import *  # noqa: F403
from .env import env_bool, env_int, env_str

SITE_URL = env_str("SITE_URL").rstrip("/")  # required: links in SMS and e-mail point here

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
# Browsers that once reached the site over https refuse plain http to it for a year. 0 turns it off (a
# deployment still moving to https); preload only once the domain is to be submitted to the browsers' list.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
LOG_FORMAT = "json"
LOGGING["handlers"]["console"]["formatter"] = "json"  # noqa: F405
