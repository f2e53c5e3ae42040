from rest_framework import serializers

from renocrm.api.views import FirmReadOnlyViewSet

from .models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ["id", "at", "action", "table_name", "row_id", "actor", "request_id", "changes"]


class AuditEventViewSet(FirmReadOnlyViewSet):
    model = AuditEvent
    permission_group = "audit"
    serializer_class = AuditEventSerializer
    filterset_fields = ["table_name", "row_id", "action", "actor"]
