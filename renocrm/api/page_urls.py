from django.urls import path

from . import pages

app_name = "integrations"

urlpatterns = [
    path("", pages.home, name="home"),
    path("keys/", pages.api_key_list, name="keys"),
    path("keys/new/", pages.api_key_create, name="key-create"),
    path("keys/<int:pk>/revoke/", pages.api_key_revoke, name="key-revoke"),
    path("webhooks/", pages.webhook_list, name="webhooks"),
    path("webhooks/new/", pages.webhook_create, name="webhook-create"),
    path("webhooks/<int:pk>/", pages.webhook_detail, name="webhook"),
    path("webhooks/<int:pk>/edit/", pages.webhook_edit, name="webhook-edit"),
    path("webhooks/<int:pk>/active/", pages.webhook_set_active, name="webhook-active"),
    path("webhooks/<int:pk>/rotate-secret/", pages.webhook_rotate_secret, name="webhook-rotate"),
    path("deliveries/<int:pk>/redeliver/", pages.delivery_redeliver, name="redeliver"),
    path("guide/", pages.guide, name="guide"),
]
