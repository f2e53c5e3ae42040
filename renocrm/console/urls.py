from django.urls import path

from . import views

app_name = "console"

urlpatterns = [
    path("", views.firm_list, name="firms"),
    # By slug: firms are the operator's records, not a firm's, and carry no firm-scoped id.
    path("firms/<slug:slug>/", views.firm_detail, name="firm"),
    *[
        path(f"firms/<slug:slug>/{action}/", views.firm_action, {"action": action}, name=action)
        for action in views.ACTIONS
    ],
]
