from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = _("Leads")

    def ready(self):
        from leads import staff_work

        # What a leaving staff member hands over (the staff page's deactivation).
        staff_work.register()

        from renocrm.privacy.masking import register_contact_fields

        from .models import Customer, Property

        register_contact_fields(Customer, mobile="mobile", other_contacts="contacts")
        register_contact_fields(
            Property,
            address="address",
            street="address_part",
            compound="address_part",
            building_unit_room="address_part",
        )
