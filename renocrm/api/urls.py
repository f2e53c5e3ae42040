from rest_framework.routers import DefaultRouter

from renocrm.audit.apis import AuditEventViewSet

from .apis import ApiKeyViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("api-keys", ApiKeyViewSet, basename="api-key")
router.register("audit-events", AuditEventViewSet, basename="audit-event")

urlpatterns = router.urls
