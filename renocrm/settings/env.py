"""Reading settings from the environment, failing at start with a message that names the variable."""

import os
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_UNSET = object()


def env_str(name: str, default=_UNSET) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if default is _UNSET:
            raise ImproperlyConfigured(f"Environment variable {name} is required but not set.")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value == "":
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"Environment variable {name} must be true or false, got {value!r}.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"Environment variable {name} must be a whole number, got {value!r}.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name, "").strip()
    if value == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_database(name: str, default=_UNSET) -> dict:
    import dj_database_url

    url = env_str(name, default)
    if urlsplit(url).scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(f"Environment variable {name} must be a postgres:// URL, got {url!r}.")
    config = dj_database_url.parse(url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60), conn_health_checks=True)
    if not config.get("NAME"):
        raise ImproperlyConfigured(f"Environment variable {name} must name a database: {url!r}.")
    return config


def env_redis_url(name: str, default=_UNSET) -> str:
    url = env_str(name, default)
    if urlsplit(url).scheme not in {"redis", "rediss", "unix"}:
        raise ImproperlyConfigured(f"Environment variable {name} must be a redis:// or unix:// URL, got {url!r}.")
    return url


def celery_broker_url(redis_url: str) -> str:
    # Kombu spells a Unix-socket Redis (the embedded one) "redis+socket://".
    if redis_url.startswith("unix://"):
        return "redis+socket://" + redis_url[len("unix://") :]
    return redis_url
