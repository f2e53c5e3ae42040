"""Homeowner portal pages of aftercare, reached only through a signed link."""

from django.urls import path  # noqa: F401

app_name = "aftercare_portal"

urlpatterns: list = []
