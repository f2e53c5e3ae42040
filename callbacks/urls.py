from django.urls import path

from callbacks import views

app_name = "callbacks"

urlpatterns = [
    path("", views.callback_list, name="list"),
    path("plan/", views.plan_edit, name="plan"),
    path("settings/", views.settings_edit, name="settings"),
    path("follow-ups/", views.follow_up_list, name="follow-ups"),
    path("follow-ups/<int:pk>/", views.follow_up_detail, name="follow-up"),
    path("follow-ups/<int:pk>/close/", views.follow_up_close, name="follow-up-close"),
    path("<int:pk>/", views.callback_detail, name="detail"),
    *[
        path(f"<int:pk>/{action}/", views.callback_action, {"action": action}, name=action)
        for action in views.CALLBACK_ACTIONS
    ],
]
