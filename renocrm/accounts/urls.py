from django.urls import path

from . import calendar_feed_views, profile, staff_views, views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password-reset"),
    path("password-reset/sent/", views.PasswordResetDoneView.as_view(), name="password-reset-done"),
    path("password-reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password-reset-confirm"),
    path("password-reset/done/", views.PasswordResetCompleteView.as_view(), name="password-reset-complete"),
    path("switch-firm/", views.switch_firm_view, name="switch-firm"),
    path("no-firm/", views.no_firm, name="no-firm"),
    path("profile/", profile.profile_edit, name="profile"),
    path("profile/calendar-feed/new/", calendar_feed_views.calendar_feed_new, name="calendar-feed-new"),
    path("profile/calendar-feed/revoke/", calendar_feed_views.calendar_feed_stop, name="calendar-feed-revoke"),
    path("invitation/<str:token>/", staff_views.invitation_accept, name="invitation"),
]
