from rest_framework.routers import DefaultRouter

from complaints.apis import ComplaintViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("complaints", ComplaintViewSet, basename="complaint")

urlpatterns = router.urls
