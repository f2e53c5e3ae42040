"""The gates lifted on worksites, for partners to read. Lifting one is a firm admin's act on the worksite
page; a partner key never lifts a gate."""

from rest_framework import serializers

from renocrm.api.views import FirmReadOnlyViewSet
from renocrm.privacy.serializers import MaskedContactsMixin
from worksites.models import GateOverride


class GateOverrideSerializer(MaskedContactsMixin, serializers.ModelSerializer):
    text_fields = ("reason",)

    class Meta:
        model = GateOverride
        fields = ["id", "worksite", "gate", "reason", "overridden_by", "created_at", "updated_at"]
        read_only_fields = fields


class GateOverrideViewSet(FirmReadOnlyViewSet):
    """Gates a firm admin lifted on a worksite, with the reason, newest first."""

    model = GateOverride
    permission_group = "worksites"
    serializer_class = GateOverrideSerializer
    filterset_fields = ["worksite", "gate"]
