from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "complaints"
    verbose_name = _("Complaints")

    def ready(self):
        from complaints import staff_work

        # What a leaving staff member hands over (the staff page's deactivation).
        staff_work.register()

        from worksites.portal_tabs import PortalTab, register

        register(PortalTab("complaints", _("Complaints"), "complaints_portal:complaints"))

        from complaints import personal_data as section
        from renocrm.privacy import registry

        registry.register(
            "complaints",
            export=section.export,
            erase=section.erase,
            blocks_erasure=section.blocks_erasure,
            holds=section.holds,
        )
