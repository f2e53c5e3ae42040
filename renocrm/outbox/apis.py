from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from renocrm.api.views import FirmModelViewSet, FirmReadOnlyViewSet, call_service, service_response
from renocrm.privacy.masking import may_see_contacts

from . import services
from .events import EVENT_TYPES
from .models import WebhookDelivery, WebhookEndpoint


class WebhookEndpointSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=60),
        required=False,
        help_text='Event types to receive; empty or ["*"]: every type, including types added later.',
    )
    include_contacts = serializers.BooleanField(
        required=False,
        help_text="Send mobile numbers and addresses in events unmasked. Only a key with contacts:read may "
        "turn this on, or change the URL of an endpoint that has it.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "event_types",
            "is_active",
            "include_contacts",
            "consecutive_failures",
            "disabled_at",
            "created_at",
        ]
        read_only_fields = ["id", "consecutive_failures", "disabled_at", "created_at"]

    def validate_event_types(self, value):
        # A type the endpoint already has (set before types were checked) may stay; a new unknown one is a typo
        # that would mean no events ever.
        known = {name for name, _label in EVENT_TYPES} | {"*"} | set(getattr(self.instance, "event_types", ()))
        unknown = [name for name in value if name not in known]
        if unknown:
            raise serializers.ValidationError(
                _('Unknown event types: %(unknown)s. Valid types: %(valid)s, or "*" for every type.')
                % {"unknown": ", ".join(unknown), "valid": ", ".join(name for name, _label in EVENT_TYPES)}
            )
        return list(dict.fromkeys(value))


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="Signs every delivery. Shown only here.")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class WebhookEndpointViewSet(FirmModelViewSet):
    """Webhook endpoints of the firm. The signing secret is shown on creation and on rotation only."""

    model = WebhookEndpoint
    permission_group = "integrations"
    serializer_class = WebhookEndpointSerializer
    filterset_fields = ["is_active"]

    @extend_schema(responses={201: WebhookEndpointWithSecretSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        endpoint = call_service(
            services.webhook_endpoint_create,
            url=data["url"],
            event_types=data.get("event_types", []),
            description=data.get("description", ""),
            is_active=data.get("is_active", True),
            include_contacts=data.get("include_contacts", False),
            contacts_allowed=may_see_contacts(request),
        )
        return Response(WebhookEndpointWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        serializer.instance = call_service(
            services.webhook_endpoint_update,
            endpoint=serializer.instance,
            contacts_allowed=may_see_contacts(self.request),
            **serializer.validated_data,
        )

    @extend_schema(request=None, responses=WebhookEndpointWithSecretSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        return service_response(
            self,
            services.webhook_endpoint_rotate_secret,
            output=WebhookEndpointWithSecretSerializer,
            endpoint=self.get_object(),
        )


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event_type = serializers.CharField(source="event.event_type", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "event_type",
            "endpoint",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_response_body",
            "last_error",
            "delivered_at",
            "given_up_at",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "last_response_body": {"help_text": "The start of the endpoint's last answer (256 characters at most)."}
        }


class WebhookDeliveryViewSet(FirmReadOnlyViewSet):
    """The delivery log: status codes and bodies of each endpoint's answers; manual redelivery."""

    model = WebhookDelivery
    permission_group = "integrations"
    serializer_class = WebhookDeliverySerializer
    filterset_fields = {"endpoint": ["exact"], "delivered_at": ["isnull"], "given_up_at": ["isnull"]}

    def scope_queryset(self, queryset):
        return queryset.select_related("event")

    @extend_schema(request=None, responses=WebhookDeliverySerializer)
    @action(detail=True, methods=["post"])
    def redeliver(self, request, pk=None):
        return service_response(self, services.webhook_delivery_redeliver, delivery=self.get_object())
