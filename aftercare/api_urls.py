from rest_framework.routers import DefaultRouter

from aftercare import apis

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("coverages", apis.CoverageViewSet, basename="coverage")
router.register("repair-requests", apis.RepairRequestViewSet, basename="repair-request")
router.register("warranty-cards", apis.WarrantyCardViewSet, basename="warranty-card")

urlpatterns = router.urls
