"""REST for complaints: list, read and take in complaints (the partner's channel is "api" unless it says
another), and the handling actions — respond, note, resolve, report, verdict, escalate — each a POST on
the complaint, answered with the complaint and its handling log."""

import django_filters
from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action

from complaints import selectors
from complaints.models import Complaint, ComplaintEntry
from complaints.services import escalation, handling, intake
from contracts.models import Project
from leads.models import Customer
from renocrm.api.fields import FirmMemberField
from renocrm.api.views import (
    FirmListCreateRetrieveViewSet,
    FirmRelatedField,
    acting_user,
    service_response,
)
from renocrm.privacy.serializers import MaskedContactsMixin


def _now(context):
    """The time the clocks are read against, once per response rather than once per row."""
    if "now" not in context:
        context["now"] = timezone.now()
    return context["now"]


# Output ----------------------------------------------------------------------------------------------------


class ComplaintEntrySerializer(MaskedContactsMixin, serializers.ModelSerializer):
    text_fields = ("text",)

    class Meta:
        model = ComplaintEntry
        fields = ["id", "kind", "level", "text", "at", "by"]
        read_only_fields = fields


class ComplaintSerializer(MaskedContactsMixin, serializers.ModelSerializer):
    text_fields = ("description", "resolution")
    customer = FirmRelatedField(model=Customer)
    project = FirmRelatedField(model=Project, required=False, allow_null=True)
    responsible = FirmMemberField(required=False, allow_null=True, help_text="User id of the staff complained about.")
    owner = FirmMemberField(
        required=False,
        allow_null=True,
        help_text="User id of who handles it; left out, the worksite's customer service agent, else its "
        "project manager.",
    )
    channel = serializers.ChoiceField(choices=Complaint.Channel.choices, default=Complaint.Channel.API)
    sla_state = serializers.SerializerMethodField(
        help_text="The running clock: overdue, due_soon (under an hour left), on_time, or stopped (resolved or closed)."
    )
    running_deadline = serializers.SerializerMethodField(
        help_text="Respond by until the first response at this level, then resolve by; null when no clock runs."
    )

    class Meta:
        model = Complaint
        fields = [
            "id",
            "customer",
            "project",
            "channel",
            "category",
            "trade",
            "severity",
            "description",
            "responsible",
            "owner",
            "status",
            "level",
            "cycle",
            "level_started_at",
            "respond_by",
            "resolve_by",
            "responded_at",
            "resolved_at",
            "resolution",
            "root_cause",
            "reported_at",
            "verdict",
            "verdict_at",
            "opened_at",
            "closed_at",
            "sla_state",
            "running_deadline",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "status",
            "level",
            "cycle",
            "level_started_at",
            "respond_by",
            "resolve_by",
            "responded_at",
            "resolved_at",
            "resolution",
            "root_cause",
            "reported_at",
            "verdict",
            "verdict_at",
            "opened_at",
            "closed_at",
            "sla_state",
            "running_deadline",
        ]
        # "" until the complaint is resolved / the customer gives a verdict: the schema says so.
        extra_kwargs = {"root_cause": {"allow_blank": True}, "verdict": {"allow_blank": True}}

    def get_sla_state(self, complaint) -> str:
        clock = selectors.complaint_clock(complaint, now=_now(self.context))
        return clock.state if clock else selectors.SlaState.STOPPED

    def get_running_deadline(self, complaint) -> str | None:
        clock = selectors.complaint_clock(complaint, now=_now(self.context))
        return clock.deadline.isoformat() if clock else None


class ComplaintDetailSerializer(ComplaintSerializer):
    entries = ComplaintEntrySerializer(many=True, read_only=True, help_text="The handling log, oldest first.")

    class Meta(ComplaintSerializer.Meta):
        fields = [*ComplaintSerializer.Meta.fields, "entries"]
        read_only_fields = [*ComplaintSerializer.Meta.read_only_fields, "entries"]


# Input -------------------------------------------------------------------------------------------------------


class TextSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, default="")


class NoteSerializer(serializers.Serializer):
    text = serializers.CharField()


class ResolveSerializer(serializers.Serializer):
    resolution = serializers.CharField()
    root_cause = serializers.ChoiceField(choices=Complaint.RootCause.choices)


class VerdictSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=Complaint.Verdict.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class EscalateSerializer(serializers.Serializer):
    reason = serializers.CharField()


# Viewset ---------------------------------------------------------------------------------------------------


class ComplaintFilter(django_filters.FilterSet):
    class Meta:
        model = Complaint
        fields = {
            "status": ["exact"],
            "level": ["exact"],
            "category": ["exact"],
            "project": ["exact"],
            "customer": ["exact"],
            "opened_at": ["gte", "lt"],
        }


COMPLAINT_EXAMPLE = {
    "id": 1,
    "customer": 7,
    "project": 4,
    "channel": "api",
    "category": "quality",
    "trade": "masonry",
    "severity": "normal",
    "description": "Cracks in the living-room wall",
    "responsible": None,
    "owner": 18,
    "status": "open",
    "level": 1,
    "cycle": 1,
    "level_started_at": "2026-11-08T09:25:20.212809+08:00",
    "respond_by": "2026-11-08T13:25:20.212809+08:00",
    "resolve_by": "2026-11-10T09:25:20.212809+08:00",
    "responded_at": None,
    "resolved_at": None,
    "resolution": "",
    "root_cause": "",
    "reported_at": None,
    "verdict": "",
    "verdict_at": None,
    "opened_at": "2026-11-08T09:25:20.212809+08:00",
    "closed_at": None,
    "sla_state": "on_time",
    "running_deadline": "2026-11-08T13:25:20.212809+08:00",
    "updated_at": "2026-11-08T09:25:20.212815+08:00",
}
COMPLAINT_DETAIL_EXAMPLE = {
    **COMPLAINT_EXAMPLE,
    "entries": [
        {"id": 1, "kind": "opened", "level": 1, "text": "", "at": "2026-11-08T09:25:20.212809+08:00", "by": None}
    ],
}


@extend_schema_view(
    list=extend_schema(
        description="The firm's complaints, newest first, each with its level (1–3), handling cycle and clocks: "
        "`sla_state` and `running_deadline` (respond by until the first response, then resolve by). Filter by "
        "`status`, `level`, `category`, `project`, `customer` or the time opened.",
        examples=[OpenApiExample("A new complaint", value=COMPLAINT_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        description="One complaint with its handling log (`entries`, oldest first).",
        examples=[OpenApiExample("A new complaint", value=COMPLAINT_DETAIL_EXAMPLE, response_only=True)],
    ),
)
class ComplaintViewSet(FirmListCreateRetrieveViewSet):
    """Complaints at three levels with their clocks. Creating one takes it in at level 1 (channel "api" by
    default); the actions move it through respond → resolve → report → verdict; a not-satisfied verdict
    opens it again in a new cycle."""

    model = Complaint
    permission_group = "complaints"
    serializer_class = ComplaintSerializer
    filterset_class = ComplaintFilter

    def get_serializer_class(self):
        return ComplaintDetailSerializer if self.detail else ComplaintSerializer

    def scope_queryset(self, queryset):
        if self.detail:
            entries = ComplaintEntry.objects.order_by("at", "id")
            return queryset.prefetch_related(Prefetch("entries", queryset=entries))
        return queryset

    @extend_schema(
        request=ComplaintSerializer,
        responses={201: ComplaintDetailSerializer},
        description="Takes in a homeowner's complaint at level 1 and starts its clocks from the firm's SLA hours. "
        "`project` must be the customer's; `channel` is `api` unless given. Left out, `owner` (who handles it) "
        "is the worksite's customer-service agent, else its project manager; `responsible` is who the complaint "
        "is about. Both are user ids of active staff of the firm.",
        examples=[
            OpenApiExample(
                "Cracks in a wall",
                value={
                    "customer": 7,
                    "project": 4,
                    "category": "quality",
                    "trade": "masonry",
                    "description": "Cracks in the living-room wall",
                },
                request_only=True,
            ),
            OpenApiExample("The complaint taken in", value=COMPLAINT_DETAIL_EXAMPLE, response_only=True),
        ],
    )
    def create(self, request, *args, **kwargs):
        return service_response(
            self,
            intake.complaint_open,
            input=ComplaintSerializer,
            output=ComplaintDetailSerializer,
            reload=True,
            status=status.HTTP_201_CREATED,
            opened_by=acting_user(request),
        )

    @extend_schema(request=TextSerializer, responses=ComplaintDetailSerializer)
    @action(detail=True, methods=["post"])
    def respond(self, request, pk=None):
        return service_response(
            self,
            handling.complaint_respond,
            input=TextSerializer,
            reload=True,
            complaint=self.get_object(),
            by=acting_user(request),
        )

    @extend_schema(request=NoteSerializer, responses=ComplaintDetailSerializer)
    @action(detail=True, methods=["post"])
    def note(self, request, pk=None):
        return service_response(
            self,
            handling.complaint_note_add,
            input=NoteSerializer,
            reload=True,
            complaint=self.get_object(),
            by=acting_user(request),
        )

    @extend_schema(request=ResolveSerializer, responses=ComplaintDetailSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return service_response(
            self,
            handling.complaint_resolve,
            input=ResolveSerializer,
            reload=True,
            complaint=self.get_object(),
            by=acting_user(request),
        )

    @extend_schema(request=TextSerializer, responses=ComplaintDetailSerializer)
    @action(detail=True, methods=["post"])
    def report(self, request, pk=None):
        return service_response(
            self,
            handling.complaint_report,
            input=TextSerializer,
            reload=True,
            complaint=self.get_object(),
            by=acting_user(request),
        )

    @extend_schema(request=VerdictSerializer, responses=ComplaintDetailSerializer)
    @action(detail=True, methods=["post"])
    def verdict(self, request, pk=None):
        return service_response(
            self,
            handling.complaint_verdict_record,
            input=VerdictSerializer,
            reload=True,
            complaint=self.get_object(),
            by=acting_user(request),
        )

    @extend_schema(request=EscalateSerializer, responses=ComplaintDetailSerializer)
    @action(detail=True, methods=["post"])
    def escalate(self, request, pk=None):
        return service_response(
            self,
            escalation.complaint_escalate,
            input=EscalateSerializer,
            reload=True,
            complaint=self.get_object(),
            by=acting_user(request),
        )
