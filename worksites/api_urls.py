from rest_framework.routers import DefaultRouter

from worksites.apis import handover, inspections, portal, progress
from worksites.apis import schedule as apis

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("worksites", apis.WorksiteViewSet, basename="worksite")
router.register("phases", apis.PhaseViewSet, basename="phase")
router.register("phase-templates", apis.PhaseTemplateViewSet, basename="phase-template")
router.register("technical-handovers", apis.TechnicalHandoverViewSet, basename="technical-handover")
for prefix, viewset, basename in (*progress.ROUTES, *inspections.ROUTES, *handover.ROUTES, *portal.ROUTES):
    router.register(prefix, viewset, basename=basename)

urlpatterns = router.urls
