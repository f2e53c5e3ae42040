from django.urls import path

from . import report_views, views

app_name = "dashboard"

urlpatterns = [
    path("", views.home, name="home"),
    path("reports/", report_views.reports, name="reports"),
    path("reports/<slug:key>/", report_views.report, name="report"),
    path("reports/<slug:key>/download.<slug:fmt>", report_views.report_download, name="report-download"),
]
