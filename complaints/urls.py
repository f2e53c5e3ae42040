from django.urls import path  # noqa: F401

from complaints import views  # noqa: F401

app_name = "complaints"

urlpatterns: list = []
