from django.urls import path

from . import document_views

urlpatterns = [
    path("versions/<int:pk>/pdf/", document_views.version_pdf, name="version-pdf"),
    path(
        "versions/<int:pk>/send-to-customer/", document_views.version_send_to_customer, name="version-send-to-customer"
    ),
    path("<int:pk>/pdf/", document_views.contract_pdf, name="contract-pdf"),
    path("accept/<str:token>/pdf/", document_views.homeowner_pdf, name="homeowner-pdf"),
]
