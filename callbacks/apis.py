"""REST for callbacks: the firm's callbacks with their surveys, the actions of a callback (assign, record an
attempt, send the survey link, book a visit, cancel, submit the survey), the firm's callback plan, and the
feedback follow-ups the surveys open (list, retrieve, close).

Designers and project managers signed in read the callbacks and follow-ups of their own projects only
(``selectors.reader_bound``); a partner's key reads the whole firm's."""

import django_filters
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action

from aftercare.models import Area
from callbacks import selectors
from callbacks.models import (
    Callback,
    CallbackAttempt,
    CallbackStep,
    FeedbackFollowUp,
    Method,
    SecondaryDemand,
    Survey,
    SurveyDefect,
    SurveyMaterial,
    SurveyStaff,
)
from callbacks.services import actions as action_services
from callbacks.services import follow_ups as follow_up_services
from callbacks.services import plan as plan_services
from callbacks.services import surveys as survey_services
from complaints.models import Complaint
from contracts.models import TradeCategory
from renocrm.api.fields import FirmMemberField
from renocrm.api.models import ApiKey
from renocrm.api.permissions import FirmPermission
from renocrm.api.views import (
    FirmReadOnlyViewSet,
    StrictBooleanField,
    acting_user,
    service_response,
)
from renocrm.privacy.serializers import MaskedContactsMixin
from worksites.models import PhaseKind
from worksites.selectors.schedule import crew_filter

# Output ----------------------------------------------------------------------------------------------------


class SurveyDefectSerializer(MaskedContactsMixin, serializers.ModelSerializer):
    text_fields = ("note",)

    class Meta:
        model = SurveyDefect
        fields = ["trade", "kind", "note"]
        read_only_fields = fields


class SurveyMaterialSerializer(MaskedContactsMixin, serializers.ModelSerializer):
    text_fields = ("item", "brand", "comment")

    class Meta:
        model = SurveyMaterial
        fields = ["id", "item", "brand", "satisfaction", "comment"]
        read_only_fields = fields


class SurveySerializer(MaskedContactsMixin, serializers.ModelSerializer):
    contact_fields = {"contact_update": "contacts"}
    text_fields = ("materials_feedback", "suggestions")
    defects = SurveyDefectSerializer(many=True, read_only=True)
    materials = SurveyMaterialSerializer(many=True, read_only=True)
    demands = serializers.SerializerMethodField(help_text="Secondary demands the homeowner mentioned.")

    class Meta:
        model = Survey
        fields = [
            "id",
            "callback",
            "via",
            *survey_services.ANSWER_FIELDS,
            *SurveyStaff.values,
            "defects",
            "materials",
            "demands",
            "lead",
            "repair_request",
            "complaint",
            "submitted_at",
            "submitted_by",
        ]
        read_only_fields = fields
        extra_kwargs = {"expectation": {"allow_blank": True}}  # "" when the homeowner did not say

    def get_demands(self, survey) -> list[SecondaryDemand]:
        return [demand.kind for demand in survey.demands.all()]


class CallbackAttemptSerializer(MaskedContactsMixin, serializers.ModelSerializer):
    text_fields = ("note",)

    class Meta:
        model = CallbackAttempt
        fields = ["id", "method", "outcome", "note", "at", "by"]
        read_only_fields = fields


class CallbackSerializer(MaskedContactsMixin, serializers.ModelSerializer):
    text_fields = ("closed_reason",)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    survey = serializers.SerializerMethodField(help_text="The survey once submitted, else null.")

    class Meta:
        model = Callback
        fields = [
            "id",
            "project",
            "worksite",
            "customer",
            "customer_name",
            "step",
            "name",
            "due_on",
            "method",
            "status",
            "assigned_to",
            "released_at",
            "attempts",
            "next_attempt_at",
            "appointment_at",
            "completed_at",
            "completed_by",
            "closed_reason",
            "created_at",
            "survey",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema(responses=SurveySerializer(allow_null=True))
    def get_survey(self, callback) -> dict | None:
        surveys = list(callback.surveys.all())
        return SurveySerializer(surveys[0], context=self.context).data if surveys else None


class CallbackStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = CallbackStep
        fields = [
            "id",
            "name",
            "anchor",
            "phase_kind",
            "offset",
            "unit",
            "method",
            "position",
            "is_active",
            "updated_at",
        ]
        read_only_fields = ["position"]


# Input -------------------------------------------------------------------------------------------------------


class AssignSerializer(serializers.Serializer):
    agent = FirmMemberField(help_text="User id of a customer-service agent (or admin) of the firm.")


class AttemptSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=CallbackAttempt.Outcome.choices, help_text="reached, no_answer, busy or wrong_number."
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")
    method = serializers.ChoiceField(choices=Method.choices, required=False, help_text="The callback's if left out.")


class VisitSerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text="When the visit is booked (ISO 8601; firm time if no offset).")


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class MaterialInputSerializer(serializers.Serializer):
    item = serializers.CharField(max_length=100, help_text="The material or piece of furniture.")
    brand = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    satisfaction = serializers.IntegerField(min_value=1, max_value=5, help_text="5 (very satisfied) to 1.")
    comment = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class DefectInputSerializer(serializers.Serializer):
    trade = serializers.ChoiceField(choices=TradeCategory.choices)
    kind = serializers.ChoiceField(choices=SurveyDefect.Kind.choices)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class RepairInputSerializer(serializers.Serializer):
    area = serializers.ChoiceField(choices=Area.choices)
    trade = serializers.ChoiceField(choices=TradeCategory.choices, required=False, allow_blank=True, default="")
    description = serializers.CharField()


class GrievanceInputSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=Complaint.Category.choices)
    description = serializers.CharField()


def _score(**kwargs):
    return serializers.IntegerField(min_value=1, max_value=5, **kwargs)


def _optional_score():
    return _score(required=False, allow_null=True)


class SurveyInputSerializer(serializers.Serializer):
    overall = _score(help_text="Overall satisfaction, 5 (very satisfied) to 1 (very dissatisfied).")
    contact_confirmed = StrictBooleanField(required=False, default=True)
    contact_update = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    quality_plumbing_electrical = _optional_score()
    quality_carpentry = _optional_score()
    quality_masonry = _optional_score()
    quality_painting = _optional_score()
    expectation = serializers.ChoiceField(
        choices=Survey.Expectation.choices, required=False, allow_blank=True, default=""
    )
    designer_rating = _optional_score()
    project_manager_rating = _optional_score()
    customer_service_rating = _optional_score()
    crew_rating = _optional_score()
    qc_rating = _optional_score()
    materials = MaterialInputSerializer(
        many=True, required=False, default=list, help_text="Materials and furniture, each rated 1–5."
    )
    materials_feedback = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Free text, what surveys asked before `materials`; still taken.",
    )
    suggestions = serializers.CharField(required=False, allow_blank=True, default="")
    nps = serializers.IntegerField(min_value=0, max_value=10, required=False, allow_null=True)
    defects = DefectInputSerializer(many=True, required=False, default=list)
    demands = serializers.ListField(
        child=serializers.ChoiceField(choices=SecondaryDemand.choices), required=False, default=list
    )
    demand_note = serializers.CharField(required=False, allow_blank=True, default="")
    repair = RepairInputSerializer(required=False, help_text="Open a repair request for a reported defect.")
    grievance = GrievanceInputSerializer(required=False, help_text="File a complaint.")


class PlanStepInputSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False, help_text="An existing step's id; left out for a new step.")
    name = serializers.CharField(max_length=100)
    anchor = serializers.ChoiceField(choices=CallbackStep.Anchor.choices)
    phase_kind = serializers.ChoiceField(choices=PhaseKind.choices, required=False, allow_blank=True, default="")
    offset = serializers.IntegerField(min_value=0, max_value=120)
    unit = serializers.ChoiceField(choices=CallbackStep.Unit.choices)
    method = serializers.ChoiceField(choices=Method.choices, required=False, default=Method.PHONE)
    is_active = StrictBooleanField(required=False, default=True)


class PlanInputSerializer(serializers.Serializer):
    steps = PlanStepInputSerializer(many=True, source="rows", help_text="The whole plan in display order.")


# Viewsets ----------------------------------------------------------------------------------------------------


def _member(request):
    """The signed-in member's membership; None for a partner's key, which reads the whole firm."""
    return None if isinstance(request.auth, ApiKey) else getattr(request._request, "membership", None)


def _reader_bound(request):
    """A signed-in designer or project manager: themselves, whose projects bound what they read; else None."""
    membership = _member(request)
    return selectors.reader_bound(membership, request.user) if membership is not None else None


class CallbackFilter(django_filters.FilterSet):
    class Meta:
        model = Callback
        fields = {
            "status": ["exact"],
            "due_on": ["gte", "lte"],
            "assigned_to": ["exact"],
            "method": ["exact"],
            "project": ["exact"],
        }


CALLBACK_EXAMPLE = {
    "id": 1,
    "project": 4,
    "worksite": 2,
    "customer": 7,
    "customer_name": "王芳",
    "step": 1,
    "name": "1 month after handover",
    "due_on": "2026-11-02",
    "method": "phone",
    "status": "retry",
    "assigned_to": 18,
    "released_at": "2026-11-02T08:00:03.201514+08:00",
    "attempts": 1,
    "next_attempt_at": "2026-11-03T10:00:00+08:00",
    "appointment_at": None,
    "completed_at": None,
    "completed_by": None,
    "closed_reason": "",
    "created_at": "2026-10-02T16:40:20.201514+08:00",
    "updated_at": "2026-11-02T14:12:51.660283+08:00",
    "survey": None,
}


@extend_schema_view(
    list=extend_schema(
        description="The firm's callbacks to homeowners after handover (and after the construction milestones the "
        "firm's plan names), newest first. They are written by the plan and released to an agent on their due "
        "day; the API cannot create them. `survey` is null until the survey is submitted. Filter by `status`, "
        "due day, agent (`assigned_to`), `method` or `project`.",
        examples=[OpenApiExample("A callback to try again", value=CALLBACK_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        description="One callback with its attempts counted and, once submitted, its survey (with the defects, "
        "materials and demands it recorded and the lead, repair request or complaint it started).",
        examples=[OpenApiExample("A callback to try again", value=CALLBACK_EXAMPLE, response_only=True)],
    ),
)
class CallbackViewSet(FirmReadOnlyViewSet):
    """The firm's callbacks, written when a project is handed over (or a construction phase finished) and
    released to an agent on their due day; each with its survey once submitted."""

    model = Callback
    permission_group = "callbacks"
    serializer_class = CallbackSerializer
    filterset_class = CallbackFilter

    def scope_queryset(self, queryset):
        crew = _reader_bound(self.request)
        if crew is not None:
            queryset = queryset.filter(crew_filter(crew, "worksite__"))
        return queryset.select_related("customer").prefetch_related(
            Prefetch("surveys", queryset=Survey.objects.prefetch_related("defects", "materials", "demands"))
        )

    @extend_schema(request=AssignSerializer, responses=CallbackSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        return service_response(
            self,
            action_services.callback_assign,
            input=AssignSerializer,
            reload=True,
            callback=self.get_object(),
            by=acting_user(request),
        )

    @extend_schema(request=AttemptSerializer, responses=CallbackSerializer)
    @action(detail=True, methods=["post"])
    def attempt(self, request, pk=None):
        return service_response(
            self,
            action_services.callback_attempt_record,
            input=AttemptSerializer,
            reload=True,
            callback=self.get_object(),
            by=acting_user(request),
        )

    @extend_schema(request=None, responses=CallbackSerializer)
    @action(detail=True, methods=["post"], url_path="send-sms")
    def send_sms(self, request, pk=None):
        """Text the homeowner the survey link (once per attempt number)."""
        return service_response(
            self,
            action_services.callback_sms_send,
            reload=True,
            callback=self.get_object(),
            by=acting_user(request),
            base_url=request.build_absolute_uri("/"),
        )

    @extend_schema(request=VisitSerializer, responses=CallbackSerializer)
    @action(detail=True, methods=["post"])
    def visit(self, request, pk=None):
        return service_response(
            self,
            action_services.callback_visit_schedule,
            input=VisitSerializer,
            reload=True,
            callback=self.get_object(),
            by=acting_user(request),
        )

    @extend_schema(request=CancelSerializer, responses=CallbackSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return service_response(
            self,
            action_services.callback_cancel,
            input=CancelSerializer,
            reload=True,
            callback=self.get_object(),
            by=acting_user(request),
        )

    @extend_schema(request=SurveyInputSerializer, responses={201: SurveySerializer})
    @action(detail=True, methods=["post"])
    def survey(self, request, pk=None):
        """Submit the survey and complete the callback; demands, a repair and a grievance start a lead, a
        repair request and a complaint."""
        return service_response(
            self,
            survey_services.survey_submit,
            input=SurveyInputSerializer,
            output=SurveySerializer,
            reload=Survey.objects.prefetch_related("defects", "materials", "demands"),
            status=status.HTTP_201_CREATED,
            callback=self.get_object(),
            via=Survey.Via.STAFF,
            by=acting_user(request),
        )


class CallbackStepViewSet(FirmReadOnlyViewSet):
    """The firm's callback plan, one row per step; ``replace`` saves the whole plan in display order
    (steps left out are deactivated, never deleted)."""

    model = CallbackStep
    permission_group = "callbacks"
    serializer_class = CallbackStepSerializer
    filterset_fields = {"anchor": ["exact"], "is_active": ["exact"]}

    def scope_queryset(self, queryset):
        return queryset.order_by("position", "id")

    def list(self, request, *args, **kwargs):
        plan_services.plan_steps()  # seeds the default plan on first use
        return super().list(request, *args, **kwargs)

    # Answers with the whole list, unpaginated (and documented so).
    @extend_schema(request=PlanInputSerializer, responses=CallbackStepSerializer(many=True))
    @action(detail=False, methods=["post"], pagination_class=None)
    def replace(self, request):
        return service_response(self, plan_services.plan_save, input=PlanInputSerializer, many=True)


# Feedback follow-ups -------------------------------------------------------------------------------------------


class FollowUpTriggerSerializer(serializers.Serializer):
    question = serializers.CharField(
        help_text="The survey field answered (`designer_rating`, `quality_masonry`, `overall`, `expectation`, "
        "`suggestions` …) or `material`."
    )
    answer = serializers.JSONField(help_text="The score 1–5, `below` for the expectation, null for a suggestion.")
    material = serializers.IntegerField(
        required=False, help_text="With `material`: the id of the survey's material row."
    )


class FeedbackFollowUpSerializer(MaskedContactsMixin, serializers.ModelSerializer):
    text_fields = ("outcome", "customer_name")
    customer_name = serializers.CharField(source="callback.customer.name", read_only=True)
    project = serializers.IntegerField(source="callback.project_id", read_only=True)
    triggers = FollowUpTriggerSerializer(many=True, read_only=True)

    class Meta:
        model = FeedbackFollowUp
        fields = [
            "id",
            "survey",
            "callback",
            "project",
            "customer_name",
            "department",
            "triggers",
            "owner",
            "status",
            "opened_at",
            "due_on",
            "overdue_raised_at",
            "outcome",
            "closed_at",
            "closed_by",
            "updated_at",
        ]
        read_only_fields = fields


class FollowUpCloseSerializer(serializers.Serializer):
    outcome = serializers.CharField(max_length=2000, help_text="What was done about the feedback.")


class FollowUpClosePermission(FirmPermission):
    """Closing is the owner's job (or a firm admin's), whatever their role — the service decides who. A
    signed-in member needs to read callbacks; a key needs ``callbacks:write``."""

    def has_permission(self, request, view):
        if isinstance(request.auth, ApiKey):
            return super().has_permission(request, view)
        membership = getattr(request._request, "membership", None)
        tenant = getattr(request._request, "tenant", None)
        return tenant is not None and membership is not None and membership.has_perm("callbacks.view")


class FeedbackFollowUpFilter(django_filters.FilterSet):
    class Meta:
        model = FeedbackFollowUp
        fields = {
            "status": ["exact"],
            "department": ["exact"],
            "owner": ["exact"],
            "callback": ["exact"],
            "due_on": ["gte", "lte"],
        }


class FeedbackFollowUpViewSet(FirmReadOnlyViewSet):
    """Follow-ups the surveys opened for the department heads: each with the answers that opened it, its
    owner, deadline and, once closed, the outcome. ``close`` records the outcome."""

    model = FeedbackFollowUp
    permission_group = "callbacks"
    serializer_class = FeedbackFollowUpSerializer
    filterset_class = FeedbackFollowUpFilter

    def scope_queryset(self, queryset):
        membership = _member(self.request)
        if membership is not None:
            queryset = selectors.follow_ups_visible(membership, self.request.user)
        return queryset.select_related("callback__customer")

    @extend_schema(request=FollowUpCloseSerializer, responses=FeedbackFollowUpSerializer)
    @action(detail=True, methods=["post"], permission_classes=[FollowUpClosePermission])
    def close(self, request, pk=None):
        return service_response(
            self,
            follow_up_services.follow_up_close,
            input=FollowUpCloseSerializer,
            reload=True,
            follow_up=self.get_object(),
            by=acting_user(request),
        )
