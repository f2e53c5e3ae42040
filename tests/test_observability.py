import logging

from django.core.cache import cache

from renocrm.tenancy.context import tenant_context


def test_log_records_carry_the_firm_and_the_request_id(client, partner, caplog):
    logger = logging.getLogger("renocrm.test")
    caplog.set_level(logging.WARNING)
    from renocrm.observability import ContextFilter

    handler_filter = ContextFilter()
    response = client.get("/api/v1/api-keys/", HTTP_X_REQUEST_ID="req-123", **partner.headers)
    assert response["X-Request-ID"] == "req-123"
    with tenant_context(partner.tenant):
        record = logger.makeRecord("renocrm.test", logging.WARNING, __file__, 1, "hello", (), None)
        handler_filter.filter(record)
    assert record.tenant == partner.tenant.slug


def test_a_bad_incoming_request_id_is_replaced(client, db):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="bad id with spaces\n")
    assert response["X-Request-ID"] != "bad id with spaces\n"
    assert len(response["X-Request-ID"]) == 32


def test_cache_keys_carry_the_firm(firm_a, firm_b):
    with tenant_context(firm_a):
        cache.set("dashboard-figures", "A's numbers")
    with tenant_context(firm_b):
        assert cache.get("dashboard-figures") is None
        cache.set("dashboard-figures", "B's numbers")
    with tenant_context(firm_a):
        assert cache.get("dashboard-figures") == "A's numbers"
    assert cache.get("dashboard-figures") is None


def test_api_docs_are_served_without_a_cdn(client, db):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower() and "https://" not in html
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/api-keys/" in schema.content
