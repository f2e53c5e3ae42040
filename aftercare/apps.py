from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AftercareConfig(AppConfig):
    name = "aftercare"
    verbose_name = _("Aftercare")

    def ready(self):
        from aftercare import staff_work

        # What a leaving staff member hands over (the staff page's deactivation).
        staff_work.register()

        from aftercare.services import cards
        from aftercare.services.coverage import on_project_handed_over
        from renocrm.outbox.services import register_handler
        from worksites import portal_tabs

        # In the handover's transaction: a project is never handed over without its warranties.
        register_handler("project.handed_over", on_project_handed_over, same_transaction=True)
        # The warranty card comes with whichever is second, the handover or the final payment, in its
        # transaction.
        register_handler("project.handed_over", cards.on_project_handed_over, same_transaction=True)
        register_handler("payment.received", cards.on_payment_received, same_transaction=True)
        portal_tabs.register(portal_tabs.PortalTab("repairs", _("Repairs"), "aftercare_portal:repairs"))

        from aftercare import personal_data as section
        from renocrm.privacy import registry

        registry.register(
            "aftercare",
            export=section.export,
            erase=section.erase,
            files=section.files,
            blocks_erasure=section.blocks_erasure,
        )
