"""The firm's staff over the API (``firm`` scopes): members with their roles, invitations, and the same
changes the staff pages make. A staff id is the membership's id; ``user`` is the id other records use."""

import django_filters
from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from renocrm.api.fields import FirmMemberField
from renocrm.api.permissions import FirmPermission
from renocrm.api.views import (
    FirmListCreateRetrieveViewSet,
    FirmReadOnlyViewSet,
    call_service,
    service_response,
    validated_data,
)
from renocrm.tenancy.models import CurrentTenantId

from . import open_work, services
from .models import Membership, StaffInvitation, User
from .roles import Role


def _acting_user(request):
    # A partner's key is nobody: the change is recorded without a person.
    return request.user if isinstance(request.user, User) else None


class StaffSerializer(serializers.ModelSerializer):
    user = serializers.IntegerField(source="user_id", read_only=True)
    name = serializers.CharField(source="user.name", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    mobile = serializers.CharField(source="user.phone", read_only=True)
    email = serializers.CharField(source="user.email", read_only=True)
    last_login = serializers.DateTimeField(source="user.last_login", read_only=True, allow_null=True)
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices), read_only=True)

    class Meta:
        model = Membership
        fields = [
            "id",
            "user",
            "name",
            "username",
            "mobile",
            "email",
            "roles",
            "is_active",
            "last_login",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class RolesInput(serializers.Serializer):
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices), allow_empty=False)


class DeactivateInput(serializers.Serializer):
    successors = serializers.DictField(
        child=FirmMemberField(),
        default=dict,
        help_text="Who takes over each kind of open work the member holds: {kind: user id}. "
        "GET /staff/{id}/open-work/ lists the kinds.",
    )


class OpenWorkSerializer(serializers.Serializer):
    kind = serializers.CharField(source="kind.key")
    label = serializers.CharField(source="kind.label")
    count = serializers.IntegerField()
    ids = serializers.ListField(child=serializers.IntegerField(), help_text="The first 20 records' ids.")
    roles = serializers.SerializerMethodField()

    def get_roles(self, held) -> list[str]:
        return sorted(held.kind.roles)


class StaffViewSet(FirmReadOnlyViewSet):
    """The firm's staff: list (``search``, ``is_active``), roles, deactivate with hand-over, reactivate."""

    model = Membership
    permission_group = "firm"
    serializer_class = StaffSerializer
    filterset_fields = ["is_active"]
    action_query_parameters = {"list": frozenset({"search"})}

    def scope_queryset(self, queryset):
        # A platform table: narrowed to the current firm here, as the firm's managers do for firm tables.
        members = queryset.filter(tenant_id=CurrentTenantId()).select_related("user").order_by("pk")
        search = self.request.query_params.get("search", "").strip() if self.action == "list" else ""
        if search:
            members = members.filter(
                Q(user__name__icontains=search) | Q(user__username__icontains=search) | Q(user__email__icontains=search)
            )
        return members

    @extend_schema(request=RolesInput, responses={200: StaffSerializer})
    @action(detail=True, methods=["post"])
    def roles(self, request, pk=None):
        return service_response(
            self, services.staff_roles_set, input=RolesInput, membership=self.get_object(), by=_acting_user(request)
        )

    @extend_schema(responses={200: OpenWorkSerializer(many=True)})
    @action(detail=True, methods=["get"], url_path="open-work")
    def open_work(self, request, pk=None):
        """What the member holds that must be handed over before they can be deactivated."""
        return Response(OpenWorkSerializer(open_work.work_held_by(self.get_object().user), many=True).data)

    @extend_schema(request=DeactivateInput, responses={200: StaffSerializer})
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        return service_response(
            self,
            services.staff_deactivate,
            input=DeactivateInput,
            membership=self.get_object(),
            by=_acting_user(request),
            reload=True,
        )

    @extend_schema(request=None, responses={200: StaffSerializer})
    @action(detail=True, methods=["post"])
    def reactivate(self, request, pk=None):
        return service_response(
            self, services.staff_reactivate, membership=self.get_object(), by=_acting_user(request), reload=True
        )

    @extend_schema(request=None, responses={202: None})
    @action(detail=True, methods=["post"], url_path="password-reset")
    def password_reset(self, request, pk=None):
        return service_response(
            self,
            services.staff_password_reset_send,
            membership=self.get_object(),
            by=_acting_user(request),
            output=_Nothing,
            status=status.HTTP_202_ACCEPTED,
        )


class _Nothing(serializers.Serializer):
    def to_representation(self, instance):
        return {}


class InvitationSerializer(serializers.ModelSerializer):
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices), allow_empty=False)
    mobile = serializers.CharField(required=False, allow_blank=True, max_length=30)
    email = serializers.EmailField(required=False, allow_blank=True)

    class Meta:
        model = StaffInvitation
        fields = [
            "id",
            "name",
            "mobile",
            "email",
            "roles",
            "expires_at",
            "sends",
            "accepted_at",
            "withdrawn_at",
            "updated_at",
        ]
        read_only_fields = ["id", "expires_at", "sends", "accepted_at", "withdrawn_at"]


class InvitationFilter(django_filters.FilterSet):
    # A yes/no question rather than the two timestamps: what a partner asks is "which are still open".
    open = django_filters.BooleanFilter(method="filter_open", label="Neither accepted nor withdrawn")

    class Meta:
        model = StaffInvitation
        fields = []

    def filter_open(self, queryset, name, value):
        still_open = Q(accepted_at__isnull=True, withdrawn_at__isnull=True)
        return queryset.filter(still_open) if value else queryset.exclude(still_open)


class StaffInvitationViewSet(FirmListCreateRetrieveViewSet):
    """Invitations to join the firm: create (sends the link by SMS or e-mail), resend, withdraw."""

    model = StaffInvitation
    permission_group = "firm"
    serializer_class = InvitationSerializer
    filterset_class = InvitationFilter

    def scope_queryset(self, queryset):
        return queryset.order_by("-pk")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return service_response(
            self,
            services.staff_invite,
            **serializer.validated_data,
            by=_acting_user(request),
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=None, responses={200: InvitationSerializer})
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        return service_response(
            self, services.staff_invitation_resend, invitation=self.get_object(), by=_acting_user(request)
        )

    @extend_schema(request=None, responses={200: InvitationSerializer})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        return service_response(
            self, services.staff_invitation_withdraw, invitation=self.get_object(), by=_acting_user(request)
        )


class DutySerializer(serializers.Serializer):
    duty = serializers.CharField(help_text="e.g. `payments.manage`.")
    label = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField(), help_text="The roles holding it; always `admin`.")
    default_roles = serializers.ListField(child=serializers.CharField())

    def to_representation(self, instance):
        duty, label, roles, default_roles = instance
        return {"duty": duty, "label": label, "roles": roles, "default_roles": default_roles}


class DutiesInput(serializers.Serializer):
    duties = serializers.DictField(
        child=serializers.ListField(child=serializers.ChoiceField(choices=Role.choices)),
        allow_empty=False,
        help_text="{duty: [role, …]}: the roles that hold each duty named; `admin` is kept whether named or not. "
        "A duty left out keeps its holders.",
    )


class DutiesView(APIView):
    """The firm's duty map (``firm`` scopes): which roles record payments, see costs, approve discounts and
    change orders and re-check rectification items. Read with firm:read; changed only by a signed-in firm
    admin (a key's PATCH is refused), as on the staff pages."""

    permission_classes = [FirmPermission]
    permission_group = "firm"

    @extend_schema(
        operation_id="duties_list",
        tags=["staff"],
        summary="Retrieve the firm's duty map",
        description="One row per duty (recording payments, seeing costs, approving discounts and change orders, "
        "re-checking rectification items …) with the roles that hold it; `admin` always does.",
        responses={200: DutySerializer(many=True)},
    )
    def get(self, request):
        return Response(DutySerializer(services.firm_duties(), many=True).data)

    @extend_schema(
        operation_id="duties_update",
        tags=["staff"],
        summary="Change which roles hold each duty",
        description="Gives each duty named to those roles and answers the whole map. Only a signed-in firm admin "
        "changes it: an API key, even with `firm:write`, gets 400 on `duties`.",
        request=DutiesInput,
        responses={200: DutySerializer(many=True)},
    )
    def patch(self, request):
        data = validated_data(DutiesInput, request)
        duties = call_service(services.firm_duties_set, duties=data["duties"], by=_acting_user(request))
        return Response(DutySerializer(duties, many=True).data)
