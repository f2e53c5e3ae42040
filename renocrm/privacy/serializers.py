from .masking import mask, may_see_contacts


class MaskedContactsMixin:
    """For a serializer with homeowners' contact details: ``contact_fields = {"mobile": "mobile"}`` (field
    name -> kind) come masked unless the request's principal may see them. No request in the context
    (internal use) means masked: the mixin fails closed."""

    contact_fields: dict[str, str] = {}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not may_see_contacts(request):
            for field, kind in self.contact_fields.items():
                if data.get(field):
                    data[field] = mask(kind, data[field])
        return data
