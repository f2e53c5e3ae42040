import django_filters
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from renocrm.api.permissions import MemberPermission
from renocrm.api.views import FirmModelViewSet, FirmReadOnlyViewSet, FirmScopedMixin, call_service, service_response
from renocrm.privacy.masking import may_see_contacts
from renocrm.privacy.serializers import MaskedContactsMixin

from . import services, staff_notices
from .events import EVENT_TYPES
from .models import StaffNotice, WebhookDelivery, WebhookEndpoint


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
            "updated_at",
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
            "redeliveries",
            "next_attempt_at",
            "last_status_code",
            "last_response_body",
            "last_error",
            "delivered_at",
            "given_up_at",
            "created_at",
            "updated_at",
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


# Staff notices (the bell) --------------------------------------------------------------------------------------


class StaffMemberPermission(MemberPermission):
    """A signed-in member of the request's firm, whatever their roles: the notices are their own. A partner's
    API key speaks for no person, so it has no notices: 403, rather than an empty list that would read as
    "nothing new"."""

    permission = "dashboard.view"
    message = gettext_lazy("Notices belong to a signed-in staff member; an API key has none.")


class StaffNoticeSerializer(MaskedContactsMixin, serializers.ModelSerializer):
    # A notice may quote a homeowner's mobile number.
    text_fields = ("subject", "body")
    link = serializers.CharField(read_only=True, help_text="The page the notice is about: a path in the app, or empty.")
    read_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = StaffNotice
        fields = ["id", "subject", "body", "link", "created_at", "read_at", "updated_at"]
        read_only_fields = fields


class StaffNoticeFilter(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull", label="Not read yet")

    class Meta:
        model = StaffNotice
        fields = []


class StaffNoticeViewSet(FirmScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The signed-in staff member's own notices in the current firm, newest first: the bell's list. Sessions
    only; an API key is refused (403)."""

    model = StaffNotice
    # Not a resource group of the firm: the notices are their addressee's, whatever the roles.
    permission_classes = [StaffMemberPermission]
    # Each person's own rows: anyone else's id answers 404, as a missing one does.
    owner_field = "user"
    serializer_class = StaffNoticeSerializer
    filterset_class = StaffNoticeFilter

    def scope_queryset(self, queryset):
        return queryset.filter(**{self.owner_field: self.request.user})

    @extend_schema(request=None, responses=StaffNoticeSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        return service_response(self, staff_notices.staff_notice_read, notice=self.get_object())

    @extend_schema(request=None, responses=inline_serializer("NoticesRead", {"read": serializers.IntegerField()}))
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return Response({"read": call_service(staff_notices.staff_notices_read_all, user=request.user)})
