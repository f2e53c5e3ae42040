"""Shared fixtures: a real PostgreSQL test database migrated by the owner and used through the
application role, two firms in every test that touches data, and the clients that act for them."""

from __future__ import annotations

import os

import psycopg2
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from psycopg2 import sql

from renocrm.tenancy.context import tenant_context

TEST_ALIASES = ("default", "owner")


def _admin_connection():
    owner = settings.DATABASES["owner"]
    conn = psycopg2.connect(
        dbname="postgres",
        user=owner["USER"],
        password=owner.get("PASSWORD") or None,
        host=owner.get("HOST") or None,
        port=owner.get("PORT") or None,
    )
    conn.autocommit = True
    return conn


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker):
    """Create the test database as the owner, migrate it as the owner, then run every test through the
    application role (``default``), exactly as the running system does."""
    # One database per test process, so concurrent runs on one server never drop each other's database.
    name = f"test_{settings.DATABASES['default']['NAME']}_{os.getpid()}"
    with django_db_blocker.unblock():
        admin = _admin_connection()
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        for alias in TEST_ALIASES:
            connections[alias].close()
            settings.DATABASES[alias]["NAME"] = name
            connections[alias].settings_dict["NAME"] = name
        call_command("migrate", database="owner", interactive=False, verbosity=0)
        with connections["owner"].cursor() as cursor:
            # Transactional tests flush tables between tests through the application role.
            cursor.execute(
                sql.SQL("GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO {}")
                .format(sql.Identifier(settings.DATABASES["default"]["USER"]))
                .as_string(cursor.connection)
            )
        connections["owner"].close()
    yield
    with django_db_blocker.unblock():
        for alias in TEST_ALIASES:
            connections[alias].close()
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Every test stores uploads in its own folder, so a test sees exactly the files it wrote."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def firm_a(db):
    from tests.factories import TenantFactory

    return TenantFactory(name="Firm A", slug="firm-a")


@pytest.fixture
def firm_b(db):
    from tests.factories import TenantFactory

    return TenantFactory(name="Firm B", slug="firm-b")


@pytest.fixture
def english(settings):
    """Pages and messages in English, so assertions read the source strings: the firms a test makes after it
    speak English (``TenantFactory`` follows ``LANGUAGE_CODE``), and so do pages before sign-in."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def in_firm():
    """``with in_firm(firm): …`` runs a block as that firm (the ORM scope and the RLS setting)."""
    return tenant_context


@pytest.fixture
def partner(firm_a):
    """An API key of firm A with every scope; ``partner.headers`` authenticates a test client request."""
    from tests.factories import ApiKeyFactory

    with tenant_context(firm_a):
        api_key = ApiKeyFactory()
    api_key.headers = {"HTTP_AUTHORIZATION": f"Api-Key {api_key.raw_key}"}
    return api_key


@pytest.fixture
def staff_client(client, firm_a):
    """A Django test client signed in as an admin of firm A."""
    from tests.factories import MembershipFactory

    membership = MembershipFactory(tenant=firm_a)
    client.force_login(membership.user)
    client.membership = membership
    return client
