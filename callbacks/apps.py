from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallbacksConfig(AppConfig):
    name = "callbacks"
    verbose_name = _("Callbacks")

    def ready(self):
        from callbacks import staff_work

        # What a leaving staff member hands over (the staff page's deactivation).
        staff_work.register()

        from callbacks.services.plan import on_phase_completed, on_project_handed_over
        from renocrm.outbox.services import register_handler

        # In the emitting transaction: a handover that rolls back leaves no callbacks behind.
        register_handler("project.handed_over", on_project_handed_over, same_transaction=True)
        register_handler("worksite.phase_completed", on_phase_completed, same_transaction=True)

        from callbacks.models import Survey
        from renocrm.privacy.masking import register_contact_fields

        # New contact details a homeowner gave during a callback: masked like the customer's own.
        register_contact_fields(Survey, contact_update="contacts")

        from callbacks import personal_data as section
        from renocrm.privacy import registry

        registry.register("callbacks", export=section.export, erase=section.erase)
