from rest_framework.routers import DefaultRouter

from renocrm.audit.apis import AuditEventViewSet
from renocrm.outbox.apis import WebhookDeliveryViewSet, WebhookEndpointViewSet

from .apis import ApiKeyViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("api-keys", ApiKeyViewSet, basename="api-key")
router.register("audit-events", AuditEventViewSet, basename="audit-event")
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")
router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")

urlpatterns = router.urls
