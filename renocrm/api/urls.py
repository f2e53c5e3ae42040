from django.urls import path
from rest_framework.routers import DefaultRouter

from renocrm.accounts.apis import DutiesView, StaffInvitationViewSet, StaffViewSet
from renocrm.audit.apis import AuditEventViewSet
from renocrm.outbox.apis import StaffNoticeViewSet, WebhookDeliveryViewSet, WebhookEndpointViewSet

from .apis import ApiKeyViewSet
from .sync_apis import DeletionViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("api-keys", ApiKeyViewSet, basename="api-key")
router.register("audit-events", AuditEventViewSet, basename="audit-event")
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")
router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")
router.register("staff", StaffViewSet, basename="staff")
router.register("staff-invitations", StaffInvitationViewSet, basename="staff-invitation")
router.register("notices", StaffNoticeViewSet, basename="notice")
router.register("deletions", DeletionViewSet, basename="deletion")

urlpatterns = [path("duties/", DutiesView.as_view(), name="duties"), *router.urls]
