from django.urls import path  # noqa: F401

from callbacks import views  # noqa: F401

app_name = "callbacks"

urlpatterns: list = []
