"""Homeowner portal pages of complaints, reached only through a signed link."""

from django.urls import path

from complaints import views

app_name = "complaints_portal"

urlpatterns = [
    path("<str:token>/complaints/", views.portal_complaints, name="complaints"),
    path("<str:token>/complaints/file/", views.portal_complaint_file, name="file"),
    path("<str:token>/complaints/verdict/", views.portal_complaint_verdict, name="verdict"),
]
