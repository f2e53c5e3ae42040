from decimal import Decimal

import django_filters
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from renocrm.api.fields import FirmMemberField
from renocrm.api.views import (
    FirmListCreateRetrieveViewSet,
    FirmModelViewSet,
    FirmReadOnlyViewSet,
    FirmRelatedField,
    ReadPlanMixin,
    acting_user,
    call_service,
    service_response,
)
from renocrm.privacy.masking import may_see_contacts
from renocrm.privacy.serializers import MaskedContactsMixin

from .models import Customer, FollowUp, Lead, Property, ReferralReward
from .selectors import customer_match
from .services import customers, pipeline, privacy, referrals
from .validators import normalize_mobile


class ZipRenderer(BaseRenderer):
    """Lets a client ask for ``Accept: application/zip``; the export view answers with the bytes itself."""

    media_type = "application/zip"
    format = "zip"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else JSONRenderer().render(data)


# Customers and properties ----------------------------------------------------------------------------------


class CustomerSerializer(MaskedContactsMixin, serializers.ModelSerializer):
    contact_fields = {"mobile": "mobile", "other_contacts": "contacts"}
    text_fields = ("notes",)

    class Meta:
        model = Customer
        fields = ["id", "name", "mobile", "other_contacts", "birthday", "notes", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        # Uniqueness per firm is the service's to check (the tenant is not a field here).
        validators = []
        extra_kwargs = {"mobile": {"validators": []}}


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label="Name contains, or the mobile number: any part of it with the contacts:read scope, else its last "
        "four digits",
    )
    mobile = django_filters.CharFilter(method="by_mobile")

    class Meta:
        model = Customer
        fields = ["q", "mobile"]

    def search(self, queryset, name, value):
        return queryset.filter(customer_match(value, full_contacts=may_see_contacts(self.request)))

    def by_mobile(self, queryset, name, value):
        return queryset.filter(mobile=normalize_mobile(value))


CUSTOMER_EXAMPLE = {
    "id": 8,
    "name": "李雷",
    "mobile": "139****9000",
    "other_contacts": "",
    "birthday": None,
    "notes": "Prefers a call after 18:00.",
    "created_at": "2026-05-08T10:25:21.263604+08:00",
    "updated_at": "2026-05-08T10:25:21.263613+08:00",
}
KNOWN_MOBILE = OpenApiResponse(
    description="A customer with this mobile number exists already (code `conflict`, `fields.mobile` says so), "
    "also when another request created it a moment ago."
)


@extend_schema_view(
    list=extend_schema(
        description="The firm's customers (homeowner households), newest first. `mobile` finds one by the whole "
        "number; `q` searches names and numbers. Mobile numbers come masked (`139****9000`) without the "
        "`contacts:read` scope.",
        examples=[OpenApiExample("A customer", value=CUSTOMER_EXAMPLE, response_only=True)],
    ),
    create=extend_schema(
        description="Records a customer. A mobile number is unique in the firm: a second customer with the same one "
        "answers 409. To hand over a sales lead, post to `leads/` instead, which links a known mobile to its "
        "customer rather than refusing it.",
        responses={201: CustomerSerializer, 409: KNOWN_MOBILE},
        examples=[
            OpenApiExample(
                "A customer",
                value={"name": "李雷", "mobile": "13900139000", "notes": "Prefers a call after 18:00."},
                request_only=True,
            ),
            OpenApiExample("The customer recorded", value=CUSTOMER_EXAMPLE, response_only=True),
        ],
    ),
    retrieve=extend_schema(
        description="One customer of the firm. The mobile number and other contacts come masked without the "
        "`contacts:read` scope.",
        examples=[OpenApiExample("A customer", value=CUSTOMER_EXAMPLE, response_only=True)],
    ),
    partial_update=extend_schema(responses={200: CustomerSerializer, 409: KNOWN_MOBILE}),
)
class CustomerViewSet(FirmModelViewSet):
    model = Customer
    permission_group = "leads"
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def perform_create(self, serializer):
        serializer.instance = call_service(customers.customer_create, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = call_service(
            customers.customer_update, customer=serializer.instance, **serializer.validated_data
        )

    @extend_schema(
        request=None,
        responses={
            (200, "application/zip"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="A ZIP: customer.json, one CSV a table, the customer's files and a README.",
            )
        },
        description="Everything the firm holds about this customer (their PIPL data export), recorded in the "
        "firm's privacy log. Needs leads:read and contacts:read (a session: a firm admin).",
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, ZipRenderer])
    def export(self, request, pk=None):
        # The export holds the full contact details, so reading leads is not enough.
        if not may_see_contacts(request):
            raise PermissionDenied("Exporting a customer's data needs access to their contact details.")
        # Staff export from the customer page, which is the firm admin's; the API asks the same of a session.
        membership = getattr(request._request, "membership", None)
        if request.auth is None and (membership is None or not membership.has_perm("firm.manage")):
            raise PermissionDenied("Exporting a customer's data is for the firm's admins.")
        customer = self.get_object()
        api_key = getattr(request.user, "api_key", None)
        note = f"API: {api_key.name}" if api_key is not None else "API"
        content = privacy.customer_data_export(customer=customer, by=acting_user(request), note=note)
        response = HttpResponse(content, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}.zip"'
        return response


ADDRESS_FIELDS = ["province", "city", "district", "street", "compound", "building_unit_room"]


class PropertyInputSerializer(serializers.ModelSerializer):
    """A property given with another record (a new lead, a measurement appointment), in its parts."""

    area = serializers.DecimalField(max_digits=8, decimal_places=2, min_value=Decimal("0.01"))

    class Meta:
        model = Property
        fields = [*ADDRESS_FIELDS, "area", "layout", "condition", "kind"]


class PropertySerializer(MaskedContactsMixin, serializers.ModelSerializer):
    # Without the contact permission: ``address`` keeps its region ("杭州市西湖区****"), the parts that find
    # the door come as "****"; province, city and district are not masked.
    contact_fields = {
        "address": "address",
        "street": "address_part",
        "compound": "address_part",
        "building_unit_room": "address_part",
    }
    customer = FirmRelatedField(model=Customer)
    area = serializers.DecimalField(max_digits=8, decimal_places=2, min_value=Decimal("0.01"))

    class Meta:
        model = Property
        fields = [
            "id",
            "customer",
            "address",
            *ADDRESS_FIELDS,
            "area",
            "layout",
            "condition",
            "kind",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "address", "created_at"]

    def revealed(self, instance, data):
        # The parts are the address again: one reveal of it per property.
        return [(instance._meta.label_lower, str(instance.pk), "address")] if data.get("address") else []


def call_service_with_property(service, *, field: str = "new_property", **kwargs):
    """``call_service`` for a service that also records a property given inline as ``field``: the refusals
    of its address parts and area come nested under ``field``, as the input was."""
    try:
        return call_service(service, **kwargs)
    except serializers.ValidationError as error:
        detail = error.detail
        if not isinstance(detail, dict) or not set(detail) & set(customers.PROPERTY_FIELDS):
            raise
        nested = {key: value for key, value in detail.items() if key in customers.PROPERTY_FIELDS}
        rest = {key: value for key, value in detail.items() if key not in customers.PROPERTY_FIELDS}
        raise serializers.ValidationError({**rest, field: nested}) from error


class PropertyViewSet(FirmModelViewSet):
    model = Property
    permission_group = "leads"
    serializer_class = PropertySerializer
    filterset_fields = ["customer"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def perform_create(self, serializer):
        serializer.instance = call_service(customers.property_create, **serializer.validated_data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        customer = data.pop("customer", None)
        if customer is not None and customer.pk != serializer.instance.customer_id:
            raise serializers.ValidationError({"customer": ["A property stays with its customer."]})
        serializer.instance = call_service(customers.property_update, property=serializer.instance, **data)


# Leads ------------------------------------------------------------------------------------------------------


class LeadSerializer(MaskedContactsMixin, ReadPlanMixin, serializers.ModelSerializer):
    text_fields = ("household", "living_habits", "style_preferences", "core_needs", "lost_reason")
    customer = FirmRelatedField(model=Customer, required=False)
    property = FirmRelatedField(model=Property, required=False, allow_null=True)
    referrer = FirmRelatedField(model=Customer, required=False, allow_null=True)
    assigned_to = FirmMemberField(required=False, allow_null=True, help_text="User id of the customer manager.")
    designer = FirmMemberField(required=False, allow_null=True, help_text="User id of the designer.")
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    # The customer's home in its parts, recorded with the lead (instead of ``property``, an existing one).
    new_property = PropertyInputSerializer(write_only=True, required=False)
    # Inline customer for a new lead (partners always use these): a known mobile links the existing customer.
    name = serializers.CharField(max_length=100, write_only=True, required=False)
    mobile = serializers.CharField(max_length=30, write_only=True, required=False)
    budget_min = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0"), required=False, allow_null=True
    )
    budget_max = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0"), required=False, allow_null=True
    )
    linked_existing_customer = serializers.SerializerMethodField()

    class Meta:
        model = Lead
        fields = [
            "id",
            "customer",
            "customer_name",
            "name",
            "mobile",
            "property",
            "new_property",
            "channel",
            "referrer",
            "household",
            "living_habits",
            "style_preferences",
            "budget_min",
            "budget_max",
            "core_needs",
            "assigned_to",
            "designer",
            "status",
            "lost_reason",
            "next_follow_up_on",
            "created_at",
            "updated_at",
            "linked_existing_customer",
        ]
        read_only_fields = ["id", "status", "lost_reason", "created_at", "updated_at"]
        # Partners need not say: their leads are always of the partner channel.
        extra_kwargs = {"channel": {"required": False}}

    def get_linked_existing_customer(self, lead) -> bool:
        return getattr(lead, "linked_existing_customer", False)


class LeadFilter(django_filters.FilterSet):
    created_after = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte")
    created_before = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte")
    follow_up_from = django_filters.DateFilter(field_name="next_follow_up_on", lookup_expr="gte")
    follow_up_to = django_filters.DateFilter(field_name="next_follow_up_on", lookup_expr="lte")

    class Meta:
        model = Lead
        fields = ["status", "channel", "assigned_to", "designer", "customer"]


MISSING_CUSTOMER = "Give the customer's name and mobile number."


class LeadCreateSerializer(LeadSerializer):
    """A partner's key always names the customer inline: a name and a mobile number, both required."""

    name = serializers.CharField(
        max_length=100,
        write_only=True,
        error_messages={"required": MISSING_CUSTOMER, "blank": MISSING_CUSTOMER},
        help_text="The customer's name.",
    )
    mobile = serializers.CharField(
        max_length=30,
        write_only=True,
        error_messages={"required": MISSING_CUSTOMER, "blank": MISSING_CUSTOMER},
        help_text="The customer's mainland-China mobile number; a known one links its existing customer.",
    )


class StatusChangeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Lead.Status.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


LEAD_EXAMPLE = {
    "id": 7,
    "customer": 7,
    "customer_name": "王芳",
    "property": None,
    "channel": "partner",
    "referrer": None,
    "household": "Couple with a toddler",
    "living_habits": "",
    "style_preferences": "Light wood, minimal",
    "budget_min": "150000.00",
    "budget_max": "200000.00",
    "core_needs": "Kitchen and two bathrooms",
    "assigned_to": None,
    "designer": None,
    "status": "new",
    "lost_reason": "",
    "next_follow_up_on": None,
    "created_at": "2026-05-08T10:25:21.245123+08:00",
    "updated_at": "2026-05-08T10:25:21.245130+08:00",
    "linked_existing_customer": False,
}


@extend_schema_view(
    list=extend_schema(
        description="The firm's sales pipeline, newest first. Filter by `status`, `channel`, the `customer`, the "
        "customer manager (`assigned_to`) or `designer`, the day a lead came in (`created_after`, "
        "`created_before`) or its next follow-up day (`follow_up_from`, `follow_up_to`).",
        examples=[OpenApiExample("Partner lead", value=LEAD_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        description="One lead of the firm, with its customer's id and name; follow-ups are under `follow-ups/`.",
        examples=[OpenApiExample("Partner lead", value=LEAD_EXAMPLE, response_only=True)],
    ),
)
class LeadViewSet(FirmListCreateRetrieveViewSet):
    """Leads. Partners create them with the customer's name and mobile inline; posting a mobile that has an
    open lead from the last 30 days returns that lead (200) instead of creating another."""

    model = Lead
    permission_group = "leads"
    serializer_class = LeadSerializer
    filterset_class = LeadFilter

    def scope_queryset(self, queryset):
        return queryset.select_related("customer")

    def get_serializer_class(self):
        # A partner's key names the customer inline (staff may name an existing customer instead).
        if self.action == "create" and getattr(self.request.user, "api_key", None) is not None:
            return LeadCreateSerializer
        return super().get_serializer_class()

    @extend_schema(
        request=LeadCreateSerializer,
        responses={
            201: OpenApiResponse(LeadSerializer, description="A new lead."),
            200: OpenApiResponse(
                LeadSerializer,
                description="The same mobile number came in with a lead that is still open, within the firm's "
                "duplicate window: that lead, unchanged. Nothing was created.",
            ),
        },
        description="A partner posts the customer's `name` and mobile number with what is known of their needs; "
        "the lead's `channel` is always `partner`, and a known mobile number is linked to its existing customer. "
        "If that mobile number came in with a lead that is still open within the firm's duplicate window (30 days "
        "unless the firm set another), the answer is that lead with 200 and nothing is created; otherwise 201 "
        "with the new lead. `new_property` records the customer's home with the lead. A signed-in staff member "
        "may name an existing `customer` instead of `name` and `mobile`, must give `channel`, and always gets "
        "201 (with `linked_existing_customer`). Send an `Idempotency-Key` to retry safely.",
        examples=[
            OpenApiExample(
                "Partner lead",
                value={
                    "name": "王芳",
                    "mobile": "13800138000",
                    "household": "Couple with a toddler",
                    "style_preferences": "Light wood, minimal",
                    "budget_min": "150000.00",
                    "budget_max": "200000.00",
                    "core_needs": "Kitchen and two bathrooms",
                },
                request_only=True,
            ),
            OpenApiExample("The new lead", value=LEAD_EXAMPLE, response_only=True, status_codes=["201"]),
            OpenApiExample(
                "The open lead already there",
                value={**LEAD_EXAMPLE, "status": "contacted", "next_follow_up_on": "2026-05-12"},
                response_only=True,
                status_codes=["200"],
            ),
        ],
    )
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if getattr(request.user, "api_key", None) is not None:
            data.pop("customer", None)
            lead, created = call_service_with_property(
                pipeline.lead_create_from_partner, name=data.pop("name"), mobile=data.pop("mobile"), **data
            )
            return Response(self.get_serializer(lead).data, status=status.HTTP_201_CREATED if created else 200)
        if "channel" not in data:
            raise serializers.ValidationError({"channel": ["This field is required."]})
        lead, linked = call_service_with_property(pipeline.lead_create, by=acting_user(request), **data)
        lead.linked_existing_customer = linked
        return Response(self.get_serializer(lead).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=StatusChangeSerializer, responses=LeadSerializer)
    @action(detail=True, methods=["post"], url_path="change-status")
    def change_status(self, request, pk=None):
        return service_response(
            self,
            pipeline.lead_change_status,
            input=StatusChangeSerializer,
            lead=self.get_object(),
            by=acting_user(request),
        )


class FollowUpSerializer(MaskedContactsMixin, serializers.ModelSerializer):
    text_fields = ("outcome", "next_step")
    lead = FirmRelatedField(model=Lead)

    class Meta:
        model = FollowUp
        fields = ["id", "lead", "kind", "at", "outcome", "next_step", "next_contact_on", "by", "updated_at"]
        read_only_fields = ["id", "by"]
        extra_kwargs = {"at": {"required": False}}


class FollowUpViewSet(FirmListCreateRetrieveViewSet):
    model = FollowUp
    permission_group = "leads"
    serializer_class = FollowUpSerializer
    filterset_fields = {"lead": ["exact"], "kind": ["exact"], "at": ["date__gte", "date__lte"]}

    def perform_create(self, serializer):
        serializer.instance = call_service(
            pipeline.follow_up_record, by=acting_user(self.request), **serializer.validated_data
        )


class ReferralRewardSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReferralReward
        fields = [
            "id",
            "referrer",
            "lead",
            "kind",
            "amount",
            "gift",
            "status",
            "created_at",
            "fulfilled_at",
            "updated_at",
        ]
        read_only_fields = fields


class ReferralRewardViewSet(FirmReadOnlyViewSet):
    model = ReferralReward
    permission_group = "leads"
    serializer_class = ReferralRewardSerializer
    filterset_fields = ["referrer", "status"]

    @extend_schema(request=None, responses=ReferralRewardSerializer)
    @action(detail=True, methods=["post"])
    def fulfil(self, request, pk=None):
        return service_response(self, referrals.referral_reward_fulfil, reward=self.get_object())
