"""Homeowner portal pages of aftercare, reached only through a signed link."""

from django.urls import path

from aftercare import views

app_name = "aftercare_portal"

urlpatterns = [
    path("<str:token>/repairs/", views.portal_repairs, name="repairs"),
    # The repair confirmed travels in the form (``object``), looked up within the link's project.
    path("<str:token>/repairs/confirm/", views.portal_repair_confirm, name="repair-confirm"),
]
