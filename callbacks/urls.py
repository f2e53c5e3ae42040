from django.urls import path

from callbacks import views

app_name = "callbacks"

urlpatterns = [
    path("", views.callback_list, name="list"),
    path("plan/", views.plan_edit, name="plan"),
    path("settings/", views.settings_edit, name="settings"),
    path("<int:pk>/", views.callback_detail, name="detail"),
    path("<int:pk>/assign/", views.callback_assign, name="assign"),
    path("<int:pk>/attempt/", views.callback_attempt, name="attempt"),
    path("<int:pk>/sms/", views.callback_sms, name="sms"),
    path("<int:pk>/visit/", views.callback_visit, name="visit"),
    path("<int:pk>/cancel/", views.callback_cancel, name="cancel"),
]
