from rest_framework.routers import DefaultRouter

from . import apis

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("quotations", apis.QuotationViewSet, basename="quotation")
router.register("quotation-versions", apis.QuotationVersionViewSet, basename="quotation-version")
router.register("contracts", apis.ContractViewSet, basename="contract")
router.register("instalments", apis.InstalmentViewSet, basename="instalment")
router.register("change-orders", apis.ChangeOrderViewSet, basename="change-order")
router.register("design-agreements", apis.DesignAgreementViewSet, basename="design-agreement")
router.register("measurement-appointments", apis.MeasurementAppointmentViewSet, basename="measurement-appointment")

urlpatterns = router.urls
