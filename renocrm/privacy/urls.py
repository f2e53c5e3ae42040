from django.urls import path

from . import views

app_name = "privacy"

urlpatterns = [
    path("", views.home, name="home"),
    path("exports/", views.export_start, name="export-start"),
    path("exports/<int:pk>/download/", views.export_download, name="export-download"),
    path("reveal/<str:record_type>/<int:pk>/<str:field>/", views.reveal, name="reveal"),
]
