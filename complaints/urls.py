from complaints.views import urlpatterns

app_name = "complaints"

__all__ = ["app_name", "urlpatterns"]
