"""Included at the site's root: exact paths only, so settings pages of other apps (settings/notices/,
settings/staff/ …) are theirs."""

from django.urls import path

from . import views

app_name = "tenancy"

urlpatterns = [
    path("settings/", views.settings_home, name="settings"),
    path("settings/firm/", views.firm_profile, name="firm-profile"),
    path("signup/", views.signup, name="signup"),
]
