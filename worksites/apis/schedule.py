from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action

from renocrm.api.fields import FirmMemberField
from renocrm.api.pagination import IdCursorPagination
from renocrm.api.views import (
    FirmListCreateRetrieveViewSet,
    FirmReadOnlyViewSet,
    FirmRelatedField,
    FirmScopedMixin,
    acting_user,
    call_service,
    service_response,
)
from renocrm.privacy.serializers import MaskedContactsMixin
from worksites.models import Phase, PhaseKind, PhaseTemplate, TechnicalHandover, Worksite
from worksites.selectors import schedule as selectors
from worksites.services import schedule as services

# Phases ---------------------------------------------------------------------------------------------------


class PhaseSerializer(MaskedContactsMixin, serializers.ModelSerializer):
    text_fields = ("notes",)

    class Meta:
        model = Phase
        fields = [
            "id",
            "worksite",
            "position",
            "kind",
            "name",
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
            "status",
            "requires_acceptance",
            "covers_concealed_works",
            "covers_waterproofing",
            "accepted_at",
            "accepted_name",
            "notes",
            "updated_at",
        ]
        read_only_fields = fields


class PhaseStartSerializer(serializers.Serializer):
    on = serializers.DateField(required=False, help_text="The day work started; today if left out.")


class PhaseCompleteSerializer(serializers.Serializer):
    on = serializers.DateField(required=False, help_text="The day work finished; today if left out.")
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class PhaseAcceptSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text="Who signed the stage off, as they signed.")


class PhaseRescheduleSerializer(serializers.Serializer):
    planned_start = serializers.DateField()
    planned_end = serializers.DateField()


class PhaseViewSet(FirmReadOnlyViewSet):
    """The phases of every worksite: start, complete, stage acceptance, reschedule."""

    model = Phase
    permission_group = "worksites"
    serializer_class = PhaseSerializer
    filterset_fields = {"worksite": ["exact"], "status": ["exact"], "kind": ["exact"], "planned_end": ["gte", "lte"]}

    @extend_schema(request=PhaseStartSerializer, responses=PhaseSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return service_response(self, services.phase_start, input=PhaseStartSerializer, phase=self.get_object())

    @extend_schema(request=PhaseCompleteSerializer, responses=PhaseSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return service_response(self, services.phase_complete, input=PhaseCompleteSerializer, phase=self.get_object())

    @extend_schema(request=PhaseAcceptSerializer, responses=PhaseSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return service_response(self, services.phase_accept, input=PhaseAcceptSerializer, phase=self.get_object())

    @extend_schema(request=PhaseRescheduleSerializer, responses=PhaseSerializer)
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        return service_response(
            self, services.phase_reschedule, input=PhaseRescheduleSerializer, phase=self.get_object()
        )


# Worksites ------------------------------------------------------------------------------------------------


class WorksiteSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="project.customer.name", read_only=True)
    # Annotated by the viewset: the first phase not yet finished, in schedule order.
    current_phase = serializers.CharField(read_only=True, allow_null=True)
    current_phase_kind = serializers.ChoiceField(
        choices=PhaseKind.choices, source="current_kind", read_only=True, allow_null=True
    )
    current_phase_planned_end = serializers.DateField(source="current_planned_end", read_only=True, allow_null=True)

    class Meta:
        model = Worksite
        fields = [
            "id",
            "project",
            "contract",
            "customer_name",
            "designer",
            "project_manager",
            "qc_inspector",
            "customer_service",
            "status",
            "created_at",
            "current_phase",
            "current_phase_kind",
            "current_phase_planned_end",
            "updated_at",
        ]
        read_only_fields = fields


class WorksiteDetailSerializer(WorksiteSerializer):
    phases = PhaseSerializer(many=True, read_only=True)

    class Meta(WorksiteSerializer.Meta):
        fields = [*WorksiteSerializer.Meta.fields, "phases"]
        read_only_fields = fields


class CrewSerializer(serializers.Serializer):
    designer = FirmMemberField(allow_null=True)
    project_manager = FirmMemberField(allow_null=True)
    qc_inspector = FirmMemberField(allow_null=True)
    customer_service = FirmMemberField(allow_null=True)


WORKSITE_EXAMPLE = {
    "id": 2,
    "project": 4,
    "contract": 4,
    "customer_name": "王芳",
    "designer": 15,
    "project_manager": 16,
    "qc_inspector": 17,
    "customer_service": 18,
    "status": "in_progress",
    "created_at": "2026-05-20T15:02:11.198800+08:00",
    "current_phase": "Plumbing & electrical",
    "current_phase_kind": "plumbing_electrical",
    "current_phase_planned_end": "2026-06-20",
    "updated_at": "2026-06-06T08:30:12.441907+08:00",
}
PHASE_EXAMPLE = {
    "id": 31,
    "worksite": 2,
    "position": 2,
    "kind": "plumbing_electrical",
    "name": "Plumbing & electrical",
    "planned_start": "2026-06-06",
    "planned_end": "2026-06-20",
    "actual_start": "2026-06-06",
    "actual_end": None,
    "status": "in_progress",
    "requires_acceptance": True,
    "covers_concealed_works": True,
    "covers_waterproofing": False,
    "accepted_at": None,
    "accepted_name": "",
    "notes": "",
    "updated_at": "2026-06-06T08:30:12.441907+08:00",
}


@extend_schema_view(
    list=extend_schema(
        description="The firm's worksites, newest first: one opens for each signed contract. Each row names its "
        "crew (user ids) and its current phase, the first in schedule order not finished yet (null before work "
        "starts and once all are done). Filter by `status`, `project` or `contract`.",
        examples=[OpenApiExample("A worksite under way", value=WORKSITE_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        description="One worksite with its whole schedule: `phases` in order, each with its planned and actual "
        "days and whether it needs a stage acceptance.",
        examples=[
            OpenApiExample(
                "A worksite under way", value={**WORKSITE_EXAMPLE, "phases": [PHASE_EXAMPLE]}, response_only=True
            )
        ],
    ),
)
class WorksiteViewSet(FirmReadOnlyViewSet):
    """Worksites open when a contract is signed; list with the current phase, retrieve with the phases."""

    model = Worksite
    permission_group = "worksites"
    serializer_class = WorksiteSerializer
    filterset_fields = ["status", "project", "contract"]

    def scope_queryset(self, queryset):
        queryset = selectors.worksites_with_current_phase(queryset.select_related("project__customer"))
        return queryset.prefetch_related("phases") if self.action in ("retrieve", "assign_crew") else queryset

    def get_serializer_class(self):
        return WorksiteDetailSerializer if self.action == "retrieve" else WorksiteSerializer

    @extend_schema(request=CrewSerializer, responses=WorksiteDetailSerializer)
    @action(detail=True, methods=["post"], url_path="assign-crew")
    def assign_crew(self, request, pk=None):
        # Read again after the change, with its current phase and schedule.
        return service_response(
            self,
            services.worksite_assign_crew,
            input=CrewSerializer,
            output=WorksiteDetailSerializer,
            reload=True,
            worksite=self.get_object(),
        )


# The firm's schedule template --------------------------------------------------------------------------------


class PhaseTemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = PhaseTemplate
        fields = [
            "id",
            "position",
            "kind",
            "name",
            "duration_days",
            "requires_acceptance",
            "covers_concealed_works",
            "covers_waterproofing",
            "updated_at",
        ]
        read_only_fields = ["id", "position"]


class TemplateReplaceSerializer(serializers.Serializer):
    phases = PhaseTemplateSerializer(many=True, allow_empty=False, source="rows")


class SchedulePagination(IdCursorPagination):
    # A template reads in schedule order; position is unique within the firm, so it can carry the cursor.
    ordering = ("position",)


class PhaseTemplateViewSet(FirmScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The firm's standard schedule, copied into each new worksite; a firm without one gets the default."""

    model = PhaseTemplate
    permission_group = "worksites"
    serializer_class = PhaseTemplateSerializer
    pagination_class = SchedulePagination

    def list(self, request, *args, **kwargs):
        services.phase_templates_get()  # seeds the default the first time
        return super().list(request, *args, **kwargs)

    # Answers with the whole list, unpaginated (and documented so).
    @extend_schema(request=TemplateReplaceSerializer, responses=PhaseTemplateSerializer(many=True))
    @action(detail=False, methods=["post"], pagination_class=None)
    def replace(self, request):
        return service_response(self, services.phase_templates_replace, input=TemplateReplaceSerializer, many=True)


# Technical handover ------------------------------------------------------------------------------------------


class TechnicalHandoverSerializer(MaskedContactsMixin, serializers.ModelSerializer):
    text_fields = ("other_attendees", "existing_facilities")
    worksite = FirmRelatedField(model=Worksite)

    class Meta:
        model = TechnicalHandover
        fields = [
            "id",
            "worksite",
            "held_on",
            "homeowner_present",
            "designer_present",
            "foreman_present",
            "site_manager_present",
            "other_attendees",
            "existing_facilities",
            "drawings_given",
            "quotation_given",
            "recorded_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "recorded_by", "created_at"]


class TechnicalHandoverViewSet(FirmListCreateRetrieveViewSet):
    """The on-site briefing before work starts, recorded once per worksite."""

    model = TechnicalHandover
    permission_group = "worksites"
    serializer_class = TechnicalHandoverSerializer
    filterset_fields = ["worksite"]

    def perform_create(self, serializer):
        serializer.instance = call_service(
            services.technical_handover_record, by=acting_user(self.request), **serializer.validated_data
        )
