from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorksitesConfig(AppConfig):
    name = "worksites"
    verbose_name = _("Worksites")

    def ready(self):
        from worksites import staff_work

        # What a leaving staff member hands over (the staff page's deactivation).
        staff_work.register()

        from renocrm.outbox.services import register_handler
        from worksites.services.portal import on_inspection_scheduled
        from worksites.services.schedule import on_contract_signed

        register_handler("contract.signed", on_contract_signed)
        register_handler("inspection.scheduled", on_inspection_scheduled)

        from contracts.phases import register_phase_kinds
        from worksites.models import PhaseKind

        register_phase_kinds(lambda: PhaseKind.choices)

        from renocrm.privacy import registry
        from worksites import personal_data as section

        registry.register(
            "worksites",
            export=section.export,
            erase=section.erase,
            files=section.files,
            blocks_erasure=section.blocks_erasure,
        )
