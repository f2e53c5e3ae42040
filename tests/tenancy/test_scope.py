import pytest
from django.db import connection

from renocrm.api.models import ApiKey
from renocrm.tenancy.context import TenantScopeError, get_current_tenant, tenant_context


def make_key(name):
    return ApiKey.objects.create(name=name, prefix=name[:12], hashed_key="x" * 64)


def test_query_without_a_firm_raises(db):
    with pytest.raises(TenantScopeError):
        list(ApiKey.objects.all())


def test_firm_sees_only_its_rows(firm_a, firm_b):
    with tenant_context(firm_a):
        make_key("a-key")
    with tenant_context(firm_b):
        make_key("b-key")
        assert list(ApiKey.objects.values_list("name", flat=True)) == ["b-key"]
    with tenant_context(firm_a):
        assert list(ApiKey.objects.values_list("name", flat=True)) == ["a-key"]


def test_raw_sql_without_a_firm_sees_no_rows(firm_a):
    with tenant_context(firm_a):
        make_key("a-key")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM api_apikey")
        assert cursor.fetchone()[0] == 0


def test_nested_firm_is_restored(firm_a, firm_b):
    with tenant_context(firm_a):
        make_key("a-key")
        with tenant_context(firm_b):
            assert get_current_tenant() == firm_b
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM api_apikey")
                assert cursor.fetchone()[0] == 0
        assert get_current_tenant() == firm_a
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM api_apikey")
            assert cursor.fetchone()[0] == 1
