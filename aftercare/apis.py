"""REST for aftercare: warranty coverages, warranty cards (保修单, read only) and repair requests (报修) with
their lifecycle actions."""

import django_filters
from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

from aftercare import selectors
from aftercare.models import Area, Coverage, RepairPhoto, RepairRequest, RepairVisit, WarrantyCard
from aftercare.services import coverage as coverage_services
from aftercare.services import repairs as repair_services
from aftercare.services.repairs import MAX_PHOTOS
from contracts.models import Project, TradeCategory
from renocrm.api.fields import FirmIdField, FirmMemberField
from renocrm.api.views import (
    FirmReadOnlyViewSet,
    FirmScopedMixin,
    StrictBooleanField,
    acting_user,
    call_service,
    service_response,
)
from renocrm.media import media_url
from renocrm.privacy.serializers import MaskedContactsMixin
from renocrm.tenancy.context import require_current_tenant
from renocrm.tenancy.time import firm_today

# Coverages ---------------------------------------------------------------------------------------------------


class CoverageSerializer(MaskedContactsMixin, serializers.ModelSerializer):
    text_fields = ("notes",)
    project = FirmIdField(model=Project)
    status = serializers.SerializerMethodField(
        help_text="active, expiring_soon (30 days or less), expired, not_started"
    )

    class Meta:
        model = Coverage
        fields = [
            "id",
            "project",
            "rule",
            "name",
            "area",
            "trade",
            "starts_on",
            "ends_on",
            "notes",
            "status",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "rule", "status", "created_at"]

    @extend_schema_field(
        serializers.ChoiceField(
            choices=[selectors.ACTIVE, selectors.EXPIRING_SOON, selectors.EXPIRED, selectors.NOT_STARTED]
        )
    )
    def get_status(self, coverage) -> str:
        if "today" not in self.context:
            self.context["today"] = firm_today()
        return selectors.coverage_status(coverage, today=self.context["today"])


class CoverageUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    area = serializers.ChoiceField(choices=Area.choices, required=False)
    trade = serializers.ChoiceField(choices=TradeCategory.choices, required=False, allow_blank=True)
    starts_on = serializers.DateField(required=False)
    ends_on = serializers.DateField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True)


class CoverageFilter(django_filters.FilterSet):
    expiring_before = django_filters.DateFilter(
        field_name="ends_on", lookup_expr="lte", label="Ends on or before this date"
    )

    class Meta:
        model = Coverage
        fields = {"project": ["exact"], "area": ["exact"], "trade": ["exact"]}


class CoverageViewSet(
    FirmScopedMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """A project's warranties, started at handover from the firm's policy or added by staff."""

    model = Coverage
    permission_group = "aftercare"
    serializer_class = CoverageSerializer
    filterset_class = CoverageFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def perform_create(self, serializer):
        serializer.instance = call_service(coverage_services.coverage_create, **serializer.validated_data)

    @extend_schema(request=CoverageUpdateSerializer, responses=CoverageSerializer)
    def partial_update(self, request, *args, **kwargs):
        return service_response(
            self,
            coverage_services.coverage_update,
            input=CoverageUpdateSerializer,
            reload=True,
            coverage=self.get_object(),
        )


# Warranty cards ----------------------------------------------------------------------------------------------


class WarrantyCardSerializer(MaskedContactsMixin, serializers.ModelSerializer):
    contact_fields = {"address": "address"}
    address = serializers.SerializerMethodField(help_text="The project's address (masked without contacts:read).")
    service_phone = serializers.SerializerMethodField(help_text="The firm's service phone.")
    coverages = CoverageSerializer(
        source="project.coverages", many=True, read_only=True, help_text="The project's coverages as they are now."
    )

    class Meta:
        model = WarrantyCard
        fields = [
            "id",
            "number",
            "project",
            "customer",
            "instalment",
            "issued_on",
            "address",
            "service_phone",
            "coverages",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_address(self, card) -> str:
        home = card.project.property
        return home.address if home is not None else ""

    @extend_schema_field(OpenApiTypes.STR)
    def get_service_phone(self, card) -> str:
        return require_current_tenant().phone

    def revealed(self, instance, data):
        # The address is the property's: its reveal is recorded as one of the property's.
        if not data.get("address"):
            return []
        return [("leads.property", str(instance.project.property_id), "address")]


class WarrantyCardFilter(django_filters.FilterSet):
    class Meta:
        model = WarrantyCard
        fields = {"project": ["exact"], "customer": ["exact"], "issued_on": ["gte", "lte"]}


class WarrantyCardViewSet(FirmReadOnlyViewSet):
    """Warranty cards (保修单): one per project, issued when the project is handed over and its final payment
    recorded, whichever comes second."""

    model = WarrantyCard
    permission_group = "aftercare"
    serializer_class = WarrantyCardSerializer
    filterset_class = WarrantyCardFilter

    def scope_queryset(self, queryset):
        return queryset.select_related("project__property").prefetch_related(
            Prefetch("project__coverages", queryset=Coverage.objects.order_by("ends_on", "id"))
        )


# Repair requests ---------------------------------------------------------------------------------------------


class RepairPhotoSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="Signed link to the photo; it stops working after a few hours.")

    class Meta:
        model = RepairPhoto
        fields = ["id", "url", "uploaded_at"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_url(self, photo) -> str:
        return media_url(photo.file)


class RepairVisitSerializer(MaskedContactsMixin, serializers.ModelSerializer):
    text_fields = ("note",)

    class Meta:
        model = RepairVisit
        fields = ["id", "kind", "at", "note", "by"]
        read_only_fields = fields


class RepairRequestSerializer(MaskedContactsMixin, serializers.ModelSerializer):
    text_fields = ("description", "resolution", "homeowner_comment", "coverage_reason")
    photos = RepairPhotoSerializer(many=True, read_only=True)
    visits = RepairVisitSerializer(many=True, read_only=True)
    customer = serializers.IntegerField(source="project.customer_id", read_only=True)
    coverage_reason = serializers.CharField(
        source="coverage_explanation",
        read_only=True,
        help_text='The warranty decision in words, e.g. "Covered by Bathroom waterproofing until 2031-05-03".',
    )

    class Meta:
        model = RepairRequest
        fields = [
            "id",
            "project",
            "customer",
            "area",
            "trade",
            "category",
            "description",
            "source",
            "reported_at",
            "coverage",
            "is_covered",
            "coverage_reason",
            "status",
            "assigned_to",
            "respond_by",
            "on_site_by",
            "responded_at",
            "on_site_at",
            "resolved_at",
            "resolution",
            "charge",
            "confirmed_at",
            "homeowner_satisfied",
            "homeowner_comment",
            "created_by",
            "created_at",
            "photos",
            "visits",
            "updated_at",
        ]
        read_only_fields = fields
        # "" when not given
        extra_kwargs = {"trade": {"allow_blank": True}, "category": {"allow_blank": True}}


class RepairOpenSerializer(serializers.Serializer):
    project = FirmIdField(model=Project)
    area = serializers.ChoiceField(choices=Area.choices)
    trade = serializers.ChoiceField(choices=TradeCategory.choices, required=False, allow_blank=True, default="")
    category = serializers.ChoiceField(
        choices=RepairRequest.Category.choices, required=False, allow_blank=True, default=""
    )
    description = serializers.CharField()
    photos = serializers.ListField(
        child=serializers.FileField(allow_empty_file=False),
        required=False,
        default=list,
        max_length=MAX_PHOTOS,
        help_text=f"Up to {MAX_PHOTOS} photos (JPEG, PNG, WebP), one `photos` part each (multipart only).",
    )


class RepairTriageSerializer(serializers.Serializer):
    trade = serializers.ChoiceField(
        choices=TradeCategory.choices, allow_blank=True, help_text="The repair's trade; empty when not known."
    )
    category = serializers.ChoiceField(
        choices=RepairRequest.Category.choices, required=False, allow_blank=True, default=""
    )


class RepairAssignSerializer(serializers.Serializer):
    agent = FirmMemberField(allow_null=True, help_text="User id of an active member of the firm; null unassigns.")


class RepairRespondSerializer(serializers.Serializer):
    note = serializers.CharField(help_text="What was said on the call.")


class RepairVisitLogSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RepairVisit.Kind.choices)
    note = serializers.CharField()
    at = serializers.DateTimeField(required=False, help_text="When; now if left out.")


class RepairResolveSerializer(serializers.Serializer):
    resolution = serializers.CharField()
    charge = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True, help_text="Only for work out of warranty."
    )


class RepairConfirmSerializer(serializers.Serializer):
    satisfied = StrictBooleanField()
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class RepairCancelSerializer(serializers.Serializer):
    reason = serializers.CharField()


class RepairRequestFilter(django_filters.FilterSet):
    class Meta:
        model = RepairRequest
        fields = {"status": ["exact"], "project": ["exact"], "is_covered": ["exact"], "assigned_to": ["exact"]}


class RepairRequestViewSet(
    FirmScopedMixin, mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Repair requests (报修): whether the warranty covers one is decided when it is opened. Actions move it
    through respond → on site → resolved → confirmed by the homeowner (or back to open), or cancel it."""

    model = RepairRequest
    permission_group = "aftercare"
    serializer_class = RepairRequestSerializer
    filterset_class = RepairRequestFilter
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def scope_queryset(self, queryset):
        return queryset.select_related("project", "coverage").prefetch_related(
            Prefetch("photos", queryset=RepairPhoto.objects.order_by("id")),
            Prefetch("visits", queryset=RepairVisit.objects.order_by("at", "id")),
        )

    @extend_schema(
        request={"application/json": RepairOpenSerializer, "multipart/form-data": RepairOpenSerializer},
        responses={201: RepairRequestSerializer},
        description="Open a repair request, as JSON or as multipart with `photos` parts. One bad photo refuses "
        "the whole request (400 on `photos`, naming the file); nothing is stored.",
    )
    def create(self, request, *args, **kwargs):
        return service_response(
            self,
            repair_services.repair_request_open,
            input=RepairOpenSerializer,
            reload=True,
            status=status.HTTP_201_CREATED,
            source=RepairRequest.Source.API,
            created_by=acting_user(request),
        )

    @extend_schema(
        request=RepairTriageSerializer,
        responses=RepairRequestSerializer,
        description="Set or change the trade (and kind of problem) of an open repair; the warranty decision is "
        "made again for the day it was reported.",
    )
    @action(detail=True, methods=["post"])
    def triage(self, request, pk=None):
        return service_response(
            self,
            repair_services.repair_request_triage,
            input=RepairTriageSerializer,
            reload=True,
            repair=self.get_object(),
            by=acting_user(request),
        )

    @extend_schema(request=RepairAssignSerializer, responses=RepairRequestSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        return service_response(
            self,
            repair_services.repair_request_assign,
            input=RepairAssignSerializer,
            reload=True,
            repair=self.get_object(),
            by=acting_user(request),
        )

    @extend_schema(request=RepairRespondSerializer, responses=RepairRequestSerializer)
    @action(detail=True, methods=["post"])
    def respond(self, request, pk=None):
        return service_response(
            self,
            repair_services.repair_request_respond,
            input=RepairRespondSerializer,
            reload=True,
            repair=self.get_object(),
            by=acting_user(request),
        )

    @extend_schema(request=RepairVisitLogSerializer, responses=RepairRequestSerializer)
    @action(detail=True, methods=["post"])
    def visit(self, request, pk=None):
        return service_response(
            self,
            repair_services.repair_visit_log,
            input=RepairVisitLogSerializer,
            reload=True,
            repair=self.get_object(),
            by=acting_user(request),
        )

    @extend_schema(request=RepairResolveSerializer, responses=RepairRequestSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return service_response(
            self,
            repair_services.repair_request_resolve,
            input=RepairResolveSerializer,
            reload=True,
            repair=self.get_object(),
            by=acting_user(request),
        )

    @extend_schema(request=RepairConfirmSerializer, responses=RepairRequestSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        return service_response(
            self,
            repair_services.repair_request_confirm,
            input=RepairConfirmSerializer,
            reload=True,
            repair=self.get_object(),
            by=acting_user(request),
        )

    @extend_schema(request=RepairCancelSerializer, responses=RepairRequestSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return service_response(
            self,
            repair_services.repair_request_cancel,
            input=RepairCancelSerializer,
            reload=True,
            repair=self.get_object(),
            by=acting_user(request),
        )
