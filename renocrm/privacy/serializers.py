"""Contact details in API answers: masked for a caller without the contact permission, and recorded as a
reveal (``ContactReveal``) for a caller with it, one INSERT per answer however many rows it lists."""

from rest_framework import serializers

from .masking import MASKERS, mask_text, may_see_contacts
from .services import contact_reveals_record


class ContactRevealListSerializer(serializers.ListSerializer):
    """A list of records whose rows may reveal contact details: the reveals of every row (and of the rows
    nested in them) are gathered on the request while the rows are written and recorded together at the end."""

    def to_representation(self, data):
        request = self.context.get("request")
        django_request = getattr(request, "_request", request)
        if django_request is None or getattr(django_request, "_contact_reveals", None) is not None:
            return super().to_representation(data)  # an outer list gathers them
        django_request._contact_reveals = []
        try:
            rows = super().to_representation(data)
            record_reveals(request, django_request._contact_reveals)
        finally:
            django_request._contact_reveals = None
        return rows


def record_reveals(request, reveals: list[tuple[str, str, str]]) -> None:
    """Record ``(record type, record id, field)`` reveals for the request's principal: its API key, or the
    signed-in staff member reading the API."""
    if not reveals or request is None:
        return
    api_key = getattr(getattr(request, "user", None), "api_key", None)
    user = request.user if getattr(request.user, "pk", None) else None
    if api_key is None and user is None:
        return
    # The path without its query: a search by mobile number would otherwise keep the number in the log.
    contact_reveals_record(reveals=reveals, user=user, api_key=api_key, page=request.path)


class RevealsContactsMixin:
    """For a serializer whose rows may carry full contact details: ``revealed(instance, data)`` names what
    one row reveals. Inside a list (``many=True``, also a list further out) they are recorded with the
    list's; a single record's at once."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        meta = cls.__dict__.get("Meta")
        if meta is not None and not hasattr(meta, "list_serializer_class"):
            meta.list_serializer_class = ContactRevealListSerializer

    def revealed(self, instance, data) -> list[tuple[str, str, str]]:
        return []

    def note_reveals(self, instance, data) -> None:
        reveals = self.revealed(instance, data)
        if not reveals:
            return
        request = self.context.get("request")
        gathering = getattr(getattr(request, "_request", request), "_contact_reveals", None)
        if gathering is not None:
            gathering.extend(reveals)
        else:
            record_reveals(request, reveals)


class MaskedContactsMixin(RevealsContactsMixin):
    """For a serializer with homeowners' contact details: ``contact_fields = {"mobile": "mobile"}`` (field
    name -> kind: "mobile", "address", "contacts") come masked unless the request's principal may see them,
    and ``text_fields`` (free text that may hold a phone number: notes, descriptions) come with the mobile
    numbers inside masked. No request in the context (internal use) means masked: the mixin fails closed.

    A principal who may see them gets them in full, and that is recorded as a reveal of each contact field
    with a value, per record, like a reveal on a page."""

    contact_fields: dict[str, str] = {}
    text_fields: tuple[str, ...] = ()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None and may_see_contacts(request):
            self.note_reveals(instance, data)
            return data
        for field, kind in self.contact_fields.items():
            if data.get(field):
                data[field] = MASKERS[kind](data[field])
        for field in self.text_fields:
            if isinstance(data.get(field), str):
                data[field] = mask_text(data[field])
        return data

    def revealed(self, instance, data):
        record_type = instance._meta.label_lower
        return [(record_type, str(instance.pk), field) for field in self.contact_fields if data.get(field)]
