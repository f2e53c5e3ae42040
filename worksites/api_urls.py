from rest_framework.routers import DefaultRouter

from worksites.apis import gates, handover, inspections, progress, schedule

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("worksites", schedule.WorksiteViewSet, basename="worksite")
router.register("phases", schedule.PhaseViewSet, basename="phase")
router.register("phase-templates", schedule.PhaseTemplateViewSet, basename="phase-template")
router.register("technical-handovers", schedule.TechnicalHandoverViewSet, basename="technical-handover")
router.register("progress-updates", progress.ProgressUpdateViewSet, basename="progress-update")
router.register("inspections", inspections.InspectionViewSet, basename="inspection")
router.register("material-arrivals", inspections.MaterialArrivalViewSet, basename="material-arrival")
router.register("site-patrols", inspections.SitePatrolViewSet, basename="site-patrol")
router.register("site-problems", inspections.SiteProblemViewSet, basename="site-problem")
router.register("gate-overrides", gates.GateOverrideViewSet, basename="gate-override")
router.register("handovers", handover.HandoverViewSet, basename="handover")
router.register("rectification-items", handover.RectificationItemViewSet, basename="rectification-item")
router.register("acceptance-items", handover.AcceptanceItemViewSet, basename="acceptance-item")

urlpatterns = router.urls
