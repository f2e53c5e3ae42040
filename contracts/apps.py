from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = _("Contracts")

    def ready(self):
        from leads import panels

        from .views import lead_panel

        panels.register(lead_panel)

        # renocrm.pdf registers the system check that warns when quotations and contracts cannot print Chinese.
        from renocrm import pdf  # noqa: F401
        from renocrm.privacy import registry

        from . import personal_data as section

        registry.register(
            "contracts",
            export=section.export,
            erase=section.erase,
            files=section.files,
            blocks_erasure=section.blocks_erasure,
            holds=section.holds,
        )
