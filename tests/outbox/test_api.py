from renocrm.outbox.models import WebhookDelivery, WebhookEndpoint
from renocrm.tenancy.context import tenant_context
from tests.outbox.factories import WebhookDeliveryFactory


def test_secret_is_shown_on_create_and_rotation_only(staff_client, firm_a):
    created = staff_client.post(
        "/api/v1/webhooks/",
        {"url": "https://erp.example.com/hook", "event_types": ["lead.created"]},
        content_type="application/json",
    )
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")
    endpoint_id = created.json()["id"]
    assert "secret" not in staff_client.get(f"/api/v1/webhooks/{endpoint_id}/").json()
    rotated = staff_client.post(f"/api/v1/webhooks/{endpoint_id}/rotate-secret/").json()
    assert rotated["secret"] != secret
    with tenant_context(firm_a):
        assert WebhookEndpoint.objects.get().previous_secret == secret


def test_delivery_log_and_redelivery(staff_client, firm_a):
    with tenant_context(firm_a):
        delivery = WebhookDeliveryFactory(attempts=8, last_status_code=500)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(given_up_at="2026-11-01T00:00:00Z")
    log = staff_client.get("/api/v1/webhook-deliveries/", {"given_up_at__isnull": "false"}).json()["results"]
    assert [(d["id"], d["last_status_code"]) for d in log] == [(delivery.pk, 500)]
    response = staff_client.post(f"/api/v1/webhook-deliveries/{delivery.pk}/redeliver/")
    assert response.status_code == 200
    assert response.json()["given_up_at"] is None


def test_a_bad_url_is_a_field_error(staff_client):
    response = staff_client.post("/api/v1/webhooks/", {"url": "not a url"}, content_type="application/json")
    assert response.status_code == 400
    assert "url" in response.json()["error"]["fields"]
