"""Homeowner portal pages of callbacks, reached only through a signed link."""

from django.urls import path  # noqa: F401

app_name = "callbacks_portal"

urlpatterns: list = []
