from django.urls import path

from . import views

app_name = "outbox"

urlpatterns = [
    path("", views.notice_settings_page, name="notice-settings"),
    path("robots/new/", views.robot_create, name="robot-create"),
    path("robots/<int:pk>/", views.robot_edit, name="robot-edit"),
    path("robots/<int:pk>/delete/", views.robot_delete, name="robot-delete"),
    path("robots/<int:pk>/test/", views.robot_test, name="robot-test"),
]
