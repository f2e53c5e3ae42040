"""Homeowner portal pages of complaints, reached only through a signed link."""

from complaints.views import portal_urlpatterns

app_name = "complaints_portal"

urlpatterns = portal_urlpatterns
