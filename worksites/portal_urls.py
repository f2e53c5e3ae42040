"""The homeowner portal: public URLs, reached only through a signed link."""

from worksites.views.portal import portal_urlpatterns

app_name = "portal"

urlpatterns = portal_urlpatterns
