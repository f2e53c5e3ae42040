import factory

from renocrm.privacy.models import ContactReveal, DataRequest, FirmExport, PrivacySettings
from tests.factories import StaffFactory


class ContactRevealFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactReveal

    user = factory.SubFactory(StaffFactory)
    record_type = "leads.customer"
    record_id = "1"
    field = "mobile"


class PrivacySettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PrivacySettings


class DataRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DataRequest

    kind = DataRequest.Kind.EXPORT
    subject_type = "leads.customer"
    subject_id = "1"


class FirmExportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FirmExport

    requested_by = factory.SubFactory(StaffFactory)
