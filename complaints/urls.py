"""Staff pages."""

from django.urls import path

from complaints import views

app_name = "complaints"

urlpatterns = [
    path("", views.complaint_list, name="list"),
    path("board/", views.complaint_board, name="board"),
    path("new/", views.complaint_create, name="new"),
    path("settings/", views.complaint_settings, name="settings"),
    path("report/", views.complaint_report, name="report"),
    path("<int:pk>/", views.complaint_detail, name="detail"),
    *[path(f"<int:pk>/{action}/", views.complaint_action, {"action": action}, name=action) for action in views.ACTIONS],
]
