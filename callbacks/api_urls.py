from rest_framework.routers import DefaultRouter

from callbacks import apis

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("callbacks", apis.CallbackViewSet, basename="callback")
router.register("callback-steps", apis.CallbackStepViewSet, basename="callback-step")

urlpatterns = router.urls
