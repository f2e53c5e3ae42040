from decimal import Decimal

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

from renocrm.api.fields import FirmIdField
from renocrm.api.views import (
    FirmListCreateRetrieveViewSet,
    FirmRelatedField,
    StrictBooleanField,
    acting_user,
    call_service,
    service_response,
)
from renocrm.media import media_url
from renocrm.privacy.serializers import MaskedContactsMixin
from worksites.apis.progress import ProgressMediaSerializer
from worksites.models import (
    Inspection,
    MaterialArrival,
    Phase,
    ProblemSolution,
    Signoff,
    SignoffRole,
    SiteMedia,
    SitePatrol,
    SiteProblem,
    Worksite,
)
from worksites.services import inspections as services
from worksites.services import media as media_services
from worksites.services.media import MAX_FILES

# A signature is JSON, or multipart when it carries the photo of a paper signature.
SIGN_PARSERS = [JSONParser, MultiPartParser, FormParser]


class SignoffSerializer(MaskedContactsMixin, serializers.ModelSerializer):
    text_fields = ("note",)
    via_portal = serializers.SerializerMethodField(help_text="Signed by the homeowner through their portal link.")

    class Meta:
        model = Signoff
        fields = ["id", "role", "signed_by", "signed_name", "signed_at", "via_portal", "on_paper", "note"]
        read_only_fields = fields

    def get_via_portal(self, signoff) -> bool:
        return signoff.portal_link_id is not None


class SiteMediaSerializer(ProgressMediaSerializer):
    class Meta(ProgressMediaSerializer.Meta):
        model = SiteMedia


class SiteMediaAddSerializer(serializers.Serializer):
    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=False),
        max_length=MAX_FILES,
        help_text=f"Up to {MAX_FILES} photos or videos in all, one `files` part each; photos lose their EXIF.",
    )


def _media_action(view, subject):
    return service_response(
        view,
        media_services.site_media_add,
        input=SiteMediaAddSerializer,
        reload=True,
        status=status.HTTP_201_CREATED,
        subject=subject,
        uploaded_by=acting_user(view.request),
    )


_MEDIA_SCHEMA = {
    "request": {"multipart/form-data": SiteMediaAddSerializer},
    "description": "Add photos or videos in one multipart request. One file that is not a photo or video, or is "
    "too large, refuses them all (400 on `files`, naming the file); nothing is stored.",
}


# The schema of a method field listing parties: an array of the sign-off role enum.
_roles = extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=SignoffRole.choices)))


# Inspections -----------------------------------------------------------------------------------------------


class InspectionSerializer(MaskedContactsMixin, serializers.ModelSerializer):
    text_fields = ("findings",)
    worksite = FirmRelatedField(model=Worksite)
    phase = FirmRelatedField(model=Phase, required=False, allow_null=True)
    required_signoffs = serializers.SerializerMethodField()
    missing_signoffs = serializers.SerializerMethodField()
    circuit_diagram_url = serializers.SerializerMethodField(help_text="A time-limited link to the diagram.")
    signoffs = SignoffSerializer(many=True, read_only=True)
    media = SiteMediaSerializer(many=True, read_only=True)
    homeowner_checks = serializers.CharField(read_only=True, help_text="What the homeowner is asked to check.")

    class Meta:
        model = Inspection
        fields = [
            "id",
            "worksite",
            "phase",
            "kind",
            "scheduled_on",
            "scheduled_time",
            "homeowner_checks",
            "result",
            "findings",
            "required_signoffs",
            "missing_signoffs",
            "signoffs",
            "circuit_diagram_url",
            "media",
            "water_hours",
            "decided_at",
            "decided_by",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "result",
            "findings",
            "water_hours",
            "decided_at",
            "decided_by",
            "created_by",
            "created_at",
        ]

    @_roles
    def get_required_signoffs(self, inspection) -> list[str]:
        return [str(role) for role in inspection.required_roles]

    @_roles
    def get_missing_signoffs(self, inspection) -> list[str]:
        return services.missing_signoffs(inspection, [s.role for s in inspection.signoffs.all()])

    def get_circuit_diagram_url(self, inspection) -> str | None:
        if not inspection.circuit_diagram:
            return None
        url, request = media_url(inspection.circuit_diagram), self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class SignSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=SignoffRole.choices)
    signed_name = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="The homeowner's name as they signed; staff signing for themselves may leave it out.",
    )
    paper_photo = serializers.FileField(
        required=False,
        help_text="Staff recording the homeowner's signature given on paper: a photo (or PDF) of the signed page, "
        "sent as multipart/form-data. Staff never sign for the homeowner without it.",
    )


class InspectionSignSerializer(SignSerializer):
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class InspectionResultSerializer(serializers.Serializer):
    passed = StrictBooleanField()
    findings = serializers.CharField(required=False, allow_blank=True, default="", help_text="Required to fail.")
    water_hours = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=0,
        max_value=720,
        help_text="Closed-water test: the hours the water stood (at least the firm's minimum, default 48, to pass).",
    )


class CircuitDiagramSerializer(serializers.Serializer):
    file = serializers.FileField(source="upload", help_text="A photo (JPEG, PNG, WebP) or a PDF.")


class InspectionViewSet(FirmListCreateRetrieveViewSet):
    """Inspections with the sign-offs their kind needs; the result is recorded once everyone has signed."""

    model = Inspection
    permission_group = "worksites"
    serializer_class = InspectionSerializer
    filterset_fields = ["worksite", "kind", "result"]

    def scope_queryset(self, queryset):
        return queryset.prefetch_related("signoffs", "media")

    def perform_create(self, serializer):
        serializer.instance = call_service(
            services.inspection_schedule, created_by=acting_user(self.request), **serializer.validated_data
        )

    @extend_schema(
        request={"application/json": InspectionSignSerializer, "multipart/form-data": InspectionSignSerializer},
        responses=InspectionSerializer,
    )
    @action(detail=True, methods=["post"], parser_classes=SIGN_PARSERS)
    def sign(self, request, pk=None):
        return service_response(
            self,
            services.inspection_sign,
            input=InspectionSignSerializer,
            reload=True,
            inspection=self.get_object(),
            user=acting_user(request),
        )

    @extend_schema(request=InspectionResultSerializer, responses=InspectionSerializer)
    @action(detail=True, methods=["post"])
    def result(self, request, pk=None):
        return service_response(
            self,
            services.inspection_record_result,
            input=InspectionResultSerializer,
            reload=True,
            inspection=self.get_object(),
            decided_by=acting_user(request),
        )

    @extend_schema(responses={201: InspectionSerializer}, **_MEDIA_SCHEMA)
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def media(self, request, pk=None):
        return _media_action(self, self.get_object())

    @extend_schema(request={"multipart/form-data": CircuitDiagramSerializer}, responses=InspectionSerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path="circuit-diagram",
        parser_classes=[MultiPartParser, FormParser],
    )
    def circuit_diagram(self, request, pk=None):
        return service_response(
            self,
            services.inspection_attach_circuit_diagram,
            input=CircuitDiagramSerializer,
            reload=True,
            inspection=self.get_object(),
        )


# Material arrivals ------------------------------------------------------------------------------------------


class MaterialArrivalSerializer(MaskedContactsMixin, serializers.ModelSerializer):
    text_fields = ("notes",)
    worksite = FirmRelatedField(model=Worksite)
    quantity = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0.01"))
    signoffs = SignoffSerializer(many=True, read_only=True)

    class Meta:
        model = MaterialArrival
        fields = [
            "id",
            "worksite",
            "material",
            "brand_model",
            "quantity",
            "unit",
            "arrived_on",
            "status",
            "notes",
            "accepted_at",
            "signoffs",
            "recorded_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "status", "notes", "accepted_at", "recorded_by", "created_at"]


class MaterialRejectSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)
    signed_name = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="Who rejected it, when it was the homeowner; the acting staff member's name otherwise.",
    )


class MaterialArrivalViewSet(FirmListCreateRetrieveViewSet):
    """Deliveries to the site, accepted by the homeowner and the QC inspector before use, or rejected."""

    model = MaterialArrival
    permission_group = "worksites"
    serializer_class = MaterialArrivalSerializer
    filterset_fields = ["worksite", "status"]

    def scope_queryset(self, queryset):
        return queryset.prefetch_related("signoffs")

    def perform_create(self, serializer):
        serializer.instance = call_service(
            services.material_arrival_record, recorded_by=acting_user(self.request), **serializer.validated_data
        )

    @extend_schema(
        request={"application/json": SignSerializer, "multipart/form-data": SignSerializer},
        responses=MaterialArrivalSerializer,
    )
    @action(detail=True, methods=["post"], parser_classes=SIGN_PARSERS)
    def sign(self, request, pk=None):
        return service_response(
            self,
            services.material_arrival_sign,
            input=SignSerializer,
            reload=True,
            arrival=self.get_object(),
            user=acting_user(request),
        )

    @extend_schema(request=MaterialRejectSerializer, responses=MaterialArrivalSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return service_response(
            self,
            services.material_arrival_reject,
            input=MaterialRejectSerializer,
            reload=True,
            arrival=self.get_object(),
            user=acting_user(request),
        )


# Site patrols ------------------------------------------------------------------------------------------------


class SitePatrolSerializer(MaskedContactsMixin, serializers.ModelSerializer):
    text_fields = ("findings",)
    worksite = FirmRelatedField(model=Worksite)

    class Meta:
        model = SitePatrol
        fields = [
            "id",
            "worksite",
            "role",
            "patrolled_on",
            "findings",
            "issues_found",
            "patrolled_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "patrolled_by", "created_at"]


class SitePatrolViewSet(FirmListCreateRetrieveViewSet):
    """Patrols by the designer, the foreman or the QC inspector, recorded by the person who walked the site."""

    model = SitePatrol
    permission_group = "worksites"
    serializer_class = SitePatrolSerializer
    filterset_fields = ["worksite", "role", "issues_found"]

    def perform_create(self, serializer):
        serializer.instance = call_service(
            services.site_patrol_record, patrolled_by=acting_user(self.request), **serializer.validated_data
        )


# Site problems ---------------------------------------------------------------------------------------------


class ProblemSolutionSerializer(MaskedContactsMixin, serializers.ModelSerializer):
    text_fields = ("description",)
    cost_change = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, default=Decimal("0"))
    extra_days = serializers.IntegerField(min_value=-999, max_value=999, required=False, default=0)

    class Meta:
        model = ProblemSolution
        fields = ["id", "position", "description", "cost_change", "extra_days"]
        read_only_fields = ["id", "position"]


class SiteProblemSerializer(MaskedContactsMixin, serializers.ModelSerializer):
    text_fields = ("description",)
    worksite = FirmRelatedField(model=Worksite)
    phase = FirmRelatedField(model=Phase, required=False, allow_null=True)
    solutions = ProblemSolutionSerializer(many=True, help_text="At least two proposed solutions.")
    media = SiteMediaSerializer(many=True, read_only=True)
    chosen_via_portal = serializers.SerializerMethodField()

    class Meta:
        model = SiteProblem
        fields = [
            "id",
            "worksite",
            "phase",
            "title",
            "description",
            "status",
            "solutions",
            "media",
            "raised_by",
            "raised_at",
            "chosen_solution",
            "chosen_name",
            "chosen_at",
            "chosen_via_portal",
            "resolved_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "status",
            "raised_by",
            "raised_at",
            "chosen_solution",
            "chosen_name",
            "chosen_at",
            "resolved_at",
        ]

    def get_chosen_via_portal(self, problem) -> bool:
        return problem.chosen_via_id is not None


class ProblemChooseSerializer(serializers.Serializer):
    # Any solution of this firm; one of another problem is refused by the service.
    solution = FirmIdField(model=ProblemSolution, help_text="The id of one of this problem's solutions.")
    chosen_name = serializers.CharField(max_length=100, help_text="The homeowner who chose, as they signed.")


class SiteProblemViewSet(FirmListCreateRetrieveViewSet):
    """Problems found on site with at least two proposed solutions, the homeowner's choice, and resolution."""

    model = SiteProblem
    permission_group = "worksites"
    serializer_class = SiteProblemSerializer
    filterset_fields = ["worksite", "status"]

    def scope_queryset(self, queryset):
        return queryset.prefetch_related("solutions", "media")

    def perform_create(self, serializer):
        serializer.instance = call_service(
            services.site_problem_raise, raised_by=acting_user(self.request), **serializer.validated_data
        )

    @extend_schema(request=ProblemChooseSerializer, responses=SiteProblemSerializer)
    @action(detail=True, methods=["post"])
    def choose(self, request, pk=None):
        return service_response(
            self,
            services.site_problem_choose,
            input=ProblemChooseSerializer,
            reload=True,
            problem=self.get_object(),
            user=acting_user(request),
        )

    @extend_schema(request=None, responses=SiteProblemSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return service_response(self, services.site_problem_resolve, reload=True, problem=self.get_object())

    @extend_schema(responses={201: SiteProblemSerializer}, **_MEDIA_SCHEMA)
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def media(self, request, pk=None):
        return _media_action(self, self.get_object())
