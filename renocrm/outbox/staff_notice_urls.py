from django.urls import path

from . import staff_notice_views as views

app_name = "notices"

urlpatterns = [
    path("", views.notice_list, name="list"),
    path("badge/", views.notice_badge, name="badge"),
    path("read-all/", views.notice_read_all, name="read-all"),
    path("<int:pk>/open/", views.notice_open, name="open"),
    path("<int:pk>/read/", views.notice_read, name="read"),
]
