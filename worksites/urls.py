from django.urls import path

from worksites.views import handover, inspections, portal, progress
from worksites.views import schedule as views

app_name = "worksites"

urlpatterns = [
    path("", views.worksite_list, name="list"),
    path("board/", views.worksite_board, name="board"),
    path("template/", views.template_edit, name="template"),
    path("<int:pk>/", views.worksite_detail, name="detail"),
    path("<int:pk>/crew/", views.crew_edit, name="crew"),
    path("<int:pk>/technical-handover/", views.technical_handover_create, name="technical-handover"),
    path("phases/<int:pk>/start/", views.phase_action, {"action": "start"}, name="phase-start"),
    path("phases/<int:pk>/complete/", views.phase_action, {"action": "complete"}, name="phase-complete"),
    path("phases/<int:pk>/accept/", views.phase_action, {"action": "accept"}, name="phase-accept"),
    *progress.urlpatterns,
    *inspections.urlpatterns,
    *handover.urlpatterns,
    *portal.urlpatterns,
]
