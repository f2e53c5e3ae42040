from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "complaints"
    verbose_name = _("Complaints")

    def ready(self):
        from worksites.portal_tabs import PortalTab, register

        register(PortalTab("complaints", _("Complaints"), "complaints_portal:complaints"))
