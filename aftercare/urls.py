from django.urls import path  # noqa: F401

from aftercare import views  # noqa: F401

app_name = "aftercare"

urlpatterns: list = []
