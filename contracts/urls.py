from django.urls import include, path

from . import settings_views, views

app_name = "contracts"

urlpatterns = [
    path("", views.contract_list, name="list"),
    path("<int:pk>/", views.contract_detail, name="detail"),
    path("sign/<int:version_pk>/", views.contract_sign, name="sign"),
    path("instalments/<int:pk>/pay/", views.instalment_pay, name="instalment-pay"),
    path("<int:contract_pk>/change-orders/new/", views.change_order_create, name="change-order-create"),
    path("change-orders/", views.change_order_list, name="change-orders"),
    path("change-orders/<int:pk>/", views.change_order_detail, name="change-order"),
    path("quotations/", views.quotation_list, name="quotations"),
    path("leads/<int:lead_pk>/quotations/new/", views.quotation_create, name="quotation-create"),
    path("leads/<int:lead_pk>/design-agreements/new/", views.design_agreement_create, name="design-agreement-create"),
    path("design-agreements/<int:pk>/paid/", views.design_agreement_paid, name="design-agreement-paid"),
    path("leads/<int:lead_pk>/measurements/new/", views.measurement_create, name="measurement-create"),
    path("versions/<int:pk>/", views.version_detail, name="version"),
    path("versions/<int:pk>/send/", views.version_send, name="version-send"),
    path("versions/<int:pk>/copy/", views.version_copy, name="version-copy"),
    path("versions/<int:pk>/approve-discount/", views.version_approve_discount, name="version-approve-discount"),
    path("versions/<int:pk>/copy-lines/", views.version_copy_lines, name="version-copy-lines"),
    path("versions/<int:pk>/fill-from-package/", views.version_fill_package, name="version-fill-package"),
    path("versions/<int:pk>/compare/<int:other_pk>/", views.version_compare, name="version-compare"),
    path("accept/<str:token>/", views.homeowner_accept, name="homeowner-accept"),
    # The firm admin's contract settings (Settings → Sales and contracts).
    path("settings/", settings_views.contract_settings, name="settings"),
    # The item library and packages.
    path("", include("contracts.library_urls")),
    # PDFs, the homeowner's download and sending a version to the customer.
    path("", include("contracts.document_urls")),
]
