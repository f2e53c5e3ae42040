from django.urls import path

from . import views

app_name = "twofactor"

urlpatterns = [
    path("", views.manage, name="manage"),
    path("verify/", views.verify, name="verify"),
    path("setup/", views.setup, name="setup"),
    path("recovery-codes/", views.recovery_codes, name="recovery-codes"),
    path("recovery-codes/new/", views.regenerate, name="regenerate"),
    path("disable/", views.disable, name="disable"),
    path("policy/", views.policy, name="policy"),
    path("policy/reset/", views.member_reset, name="member-reset"),
]
