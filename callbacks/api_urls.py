from rest_framework.routers import DefaultRouter

from callbacks import apis

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("callbacks", apis.CallbackViewSet, basename="callback")
# The firm's callback plan: one row per step.
router.register("callback-plans", apis.CallbackStepViewSet, basename="callback-plan")
router.register("feedback-follow-ups", apis.FeedbackFollowUpViewSet, basename="feedback-follow-up")

urlpatterns = router.urls
