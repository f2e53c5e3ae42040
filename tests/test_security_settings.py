"""The security defaults of each run mode, read from a fresh process as a deployment would start it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NAMES = [
    "DEBUG",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_IDLE_TIMEOUT_SECONDS",
    "SESSION_COOKIE_AGE",
    "TRUSTED_PROXIES",
    "UPLOAD_MAX_IMAGE_PIXELS",
]


def settings_of(module: str, **overrides) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE", "DEBUG", "SECURE_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": module,
            "SECRET_KEY": "x" * 50,
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "DATABASE_URL": "postgres://a@127.0.0.1/b",
            "DATABASE_OWNER_URL": "postgres://a@127.0.0.1/b",
            "SITE_URL": "https://crm.example.com",
            **overrides,
        }
    )
    script = (
        "import django, json; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name) for name in {NAMES!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_sends_hsts_for_a_year_by_default():
    values = settings_of("renocrm.settings.production")
    assert values["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_HSTS_PRELOAD"] is False
    assert values["DEBUG"] is False
    assert values["SESSION_IDLE_TIMEOUT_SECONDS"] == 8 * 3600
    assert values["SESSION_COOKIE_AGE"] == 7 * 24 * 3600
    assert values["TRUSTED_PROXIES"] == []
    assert values["UPLOAD_MAX_IMAGE_PIXELS"] == 40_000_000


def test_production_security_settings_come_from_the_environment():
    values = settings_of(
        "renocrm.settings.production",
        SECURE_HSTS_SECONDS="0",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="false",
        SECURE_HSTS_PRELOAD="true",
        SESSION_IDLE_TIMEOUT_SECONDS="1800",
        SESSION_MAX_AGE_SECONDS="86400",
        TRUSTED_PROXIES="10.0.0.0/8, 192.0.2.10",
        UPLOAD_MAX_IMAGE_PIXELS="20000000",
    )
    assert (values["SECURE_HSTS_SECONDS"], values["SECURE_HSTS_INCLUDE_SUBDOMAINS"]) == (0, False)
    assert values["SECURE_HSTS_PRELOAD"] is True
    assert (values["SESSION_IDLE_TIMEOUT_SECONDS"], values["SESSION_COOKIE_AGE"]) == (1800, 86400)
    assert values["TRUSTED_PROXIES"] == ["10.0.0.0/8", "192.0.2.10"]
    assert values["UPLOAD_MAX_IMAGE_PIXELS"] == 20_000_000


@pytest.mark.parametrize(("debug", "expected"), [(None, False), ("true", True)])
def test_make_run_keeps_debug_off_unless_the_developer_turns_it_on(debug, expected):
    overrides = {"DEBUG": debug} if debug else {}
    assert settings_of("renocrm.settings.local", **overrides)["DEBUG"] is expected


def test_a_production_deploy_check_has_no_hsts_warning():
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE", "DEBUG", "SECURE_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "renocrm.settings.production",
            "SECRET_KEY": "a-long-random-production-secret-" + "k" * 40,
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "DATABASE_URL": "postgres://a@127.0.0.1/b",
            "DATABASE_OWNER_URL": "postgres://a@127.0.0.1/b",
            "SITE_URL": "https://crm.example.com",
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = result.stdout + result.stderr
    assert "security.W004" not in output and "security.W005" not in output
