import re

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from renocrm.accounts.roles import SCOPES

from . import services
from .models import ApiKey
from .views import FirmListCreateRetrieveViewSet, call_service, service_response


def calling_key(request) -> ApiKey | None:
    return request.auth if isinstance(request.auth, ApiKey) else None


# What DRF's throttle parses: a whole number (at least 1: a rate of 0 would refuse every request), a slash, and
# a unit it reads from the first letter (s, m, h, d).
RATE = re.compile(r"0*[1-9][0-9]*/[smhd][a-z]*")


class ApiKeySerializer(serializers.ModelSerializer):
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=SCOPES), allow_empty=False)

    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "scopes", "rate", "created_at", "last_used_at", "revoked_at", "updated_at"]
        read_only_fields = ["id", "prefix", "created_at", "last_used_at", "revoked_at"]

    def validate_rate(self, value):
        if value and not RATE.fullmatch(value):
            raise serializers.ValidationError(_("Use a rate such as 600/min, 10/s or 5000/hour."))
        return value


class CreatedApiKeySerializer(ApiKeySerializer):
    key = serializers.CharField(read_only=True, help_text="The key itself. Shown only in this response.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]


class ApiKeyViewSet(FirmListCreateRetrieveViewSet):
    """The firm's API keys: create (the key is shown once), list with last use, revoke."""

    model = ApiKey
    permission_group = "integrations"
    serializer_class = ApiKeySerializer

    @extend_schema(responses={201: CreatedApiKeySerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        api_key, raw_key = call_service(
            services.api_key_create, **serializer.validated_data, granted_by=calling_key(request)
        )
        api_key.key = raw_key
        return Response(CreatedApiKeySerializer(api_key).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: ApiKeySerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        return service_response(self, services.api_key_revoke, api_key=self.get_object())
