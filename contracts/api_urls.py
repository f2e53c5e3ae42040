from rest_framework.routers import DefaultRouter

from . import apis, document_apis, library_apis

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("quotations", apis.QuotationViewSet, basename="quotation")
router.register("quotation-versions", apis.QuotationVersionViewSet, basename="quotation-version")
router.register("contracts", apis.ContractViewSet, basename="contract")
router.register("instalments", apis.InstalmentViewSet, basename="instalment")
router.register("change-orders", apis.ChangeOrderViewSet, basename="change-order")
router.register("design-agreements", apis.DesignAgreementViewSet, basename="design-agreement")
router.register("measurement-appointments", apis.MeasurementAppointmentViewSet, basename="measurement-appointment")
router.register("price-items", library_apis.PriceItemViewSet, basename="price-item")
router.register("price-packages", library_apis.PricePackageViewSet, basename="price-package")

# The PDFs and sending to the customer, as actions on the same records (quotation-version-pdf, contract-pdf …).
documents = DefaultRouter(trailing_slash=True)
documents.include_root_view = False
documents.register("quotation-versions", document_apis.QuotationVersionDocumentViewSet, basename="quotation-version")
documents.register("contracts", document_apis.ContractDocumentViewSet, basename="contract")

urlpatterns = router.urls + documents.urls
