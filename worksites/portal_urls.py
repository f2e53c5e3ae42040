"""The homeowner portal: public URLs, reached only through a signed link."""

from django.urls import path

from worksites.views import portal

app_name = "portal"

urlpatterns = [
    path("<str:token>/", portal.portal_home, name="home"),
    path("<str:token>/progress/", portal.portal_progress, name="progress"),
    path("<str:token>/documents/", portal.portal_documents, name="documents"),
    # The object acted on travels in the form (``object``), checked against the link's worksite.
    path("<str:token>/phases/accept/", portal.portal_phase_accept, name="phase-accept"),
    path("<str:token>/inspections/sign/", portal.portal_inspection_sign, name="inspection-sign"),
    path("<str:token>/materials/accept/", portal.portal_material_accept, name="material-accept"),
    path("<str:token>/materials/reject/", portal.portal_material_reject, name="material-reject"),
    path("<str:token>/problems/choose/", portal.portal_problem_choose, name="problem-choose"),
]
