"""Homeowner portal pages of callbacks, reached only through a signed link."""

from django.urls import path

from callbacks import views

app_name = "callbacks_portal"

urlpatterns = [
    path("survey/<str:token>/", views.survey_page, name="survey"),
]
