from rest_framework.routers import DefaultRouter

from .receivable_apis import ReceivableViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("receivables", ReceivableViewSet, basename="receivable")

urlpatterns = router.urls
