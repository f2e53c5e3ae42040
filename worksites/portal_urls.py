"""The homeowner portal: public URLs, reached only through a signed link."""

app_name = "portal"

urlpatterns = []
