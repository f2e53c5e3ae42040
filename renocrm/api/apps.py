from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "renocrm.api"
    label = "api"
    verbose_name = _("API platform")

    def ready(self):
        from . import schema  # noqa: F401  (registers the API-key scheme with drf-spectacular)
