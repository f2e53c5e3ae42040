from rest_framework.routers import DefaultRouter

from . import apis

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("worksites", apis.WorksiteViewSet, basename="worksite")
router.register("phases", apis.PhaseViewSet, basename="phase")
router.register("phase-templates", apis.PhaseTemplateViewSet, basename="phase-template")
router.register("technical-handovers", apis.TechnicalHandoverViewSet, basename="technical-handover")

urlpatterns = router.urls
