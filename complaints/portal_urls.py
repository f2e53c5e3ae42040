"""Homeowner portal pages of complaints, reached only through a signed link."""

from django.urls import path  # noqa: F401

app_name = "complaints_portal"

urlpatterns: list = []
