from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SweepsConfig(AppConfig):
    name = "renocrm.sweeps"
    label = "sweeps"
    verbose_name = _("Sweeps")
