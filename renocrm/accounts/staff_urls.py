from django.urls import path

from . import staff_views as views

# The staff pages, under /settings/staff/.
app_name = "staff"

urlpatterns = [
    path("", views.staff_list, name="list"),
    path("invite/", views.staff_invite, name="invite"),
    path("duties/", views.staff_duties, name="duties"),
    path("invitations/<int:pk>/resend/", views.invitation_resend, name="invitation-resend"),
    path("invitations/<int:pk>/withdraw/", views.invitation_withdraw, name="invitation-withdraw"),
    path("<int:pk>/", views.staff_detail, name="detail"),
    path("<int:pk>/deactivate/", views.staff_deactivate, name="deactivate"),
    path("<int:pk>/reactivate/", views.staff_reactivate, name="reactivate"),
    path("<int:pk>/password-reset/", views.staff_password_reset, name="password-reset"),
]
