from rest_framework import serializers

from renocrm.api.views import FirmReadOnlyViewSet
from renocrm.privacy.masking import audit_contact_values, contact_columns, mask_audit_changes, may_see_contacts
from renocrm.privacy.serializers import RevealsContactsMixin

from .models import AuditEvent
from .selectors import HIDDEN, HIDDEN_VALUE_MARKERS


def hide_secrets(changes):
    """Columns holding secrets or their digests (an API key's hash) are in the trail but never shown."""
    if not isinstance(changes, dict):
        return changes
    return {
        column: (HIDDEN if any(marker in column for marker in HIDDEN_VALUE_MARKERS) and value is not None else value)
        for column, value in changes.items()
    }


class AuditEventSerializer(RevealsContactsMixin, serializers.ModelSerializer):
    """Changed values as the caller may see them: contact columns and mobile numbers in text masked without
    the contact permission (with it, reading them is recorded as a reveal), secrets never shown."""

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["changes"] = hide_secrets(data["changes"])
        request = self.context.get("request")
        if request is not None and may_see_contacts(request):
            self.note_reveals(instance, data)
        else:
            data["changes"] = mask_audit_changes(instance.table_name, data["changes"])
        return data

    def revealed(self, instance, data):
        registered = contact_columns(instance.table_name)
        if registered is None:
            return []
        fields = audit_contact_values(instance.table_name, data["changes"])
        return [(registered[0], instance.row_id, field) for field in fields]

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "action",
            "table_name",
            "row_id",
            "actor",
            "api_key",
            "request_id",
            "changes",
            "updated_at",
        ]


class AuditEventViewSet(FirmReadOnlyViewSet):
    model = AuditEvent
    permission_group = "audit"
    serializer_class = AuditEventSerializer
    filterset_fields = ["table_name", "row_id", "action", "actor", "api_key"]
