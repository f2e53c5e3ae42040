from rest_framework.routers import DefaultRouter

from . import apis

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("customers", apis.CustomerViewSet, basename="customer")
router.register("properties", apis.PropertyViewSet, basename="property")
router.register("leads", apis.LeadViewSet, basename="lead")
router.register("follow-ups", apis.FollowUpViewSet, basename="follow-up")
router.register("referral-rewards", apis.ReferralRewardViewSet, basename="referral-reward")

urlpatterns = router.urls
