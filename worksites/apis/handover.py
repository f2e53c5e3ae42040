"""REST for handover: the handover of a worksite with its checks, rectification items and documents;
checking an item, fixing and re-checking rectification items, uploading documents, completing."""

import django_filters
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser

from renocrm.api.fields import FirmIdField, FirmMemberField
from renocrm.api.views import (
    FirmListCreateRetrieveViewSet,
    FirmReadOnlyViewSet,
    FirmRelatedField,
    StrictBooleanField,
    acting_user,
    call_service,
    service_response,
    validated_data,
)
from renocrm.media import media_url
from renocrm.privacy.serializers import MaskedContactsMixin
from renocrm.tenancy.time import firm_today
from worksites.models import AcceptanceItem, Handover, HandoverDocument, RectificationItem, Worksite
from worksites.selectors import handover as selectors
from worksites.services import handover as services


def _today(context) -> object:
    """Today in the firm's time zone, read once per response rather than once per row."""
    if "today" not in context:
        context["today"] = firm_today()
    return context["today"]


# Output ----------------------------------------------------------------------------------------------------


class AcceptanceItemSerializer(MaskedContactsMixin, serializers.ModelSerializer):
    text_fields = ("note",)

    class Meta:
        model = AcceptanceItem
        fields = [
            "id",
            "handover",
            "position",
            "area",
            "item",
            "result",
            "note",
            "checked_at",
            "checked_by",
            "updated_at",
        ]
        read_only_fields = fields


class RectificationItemSerializer(MaskedContactsMixin, serializers.ModelSerializer):
    text_fields = ("description", "recheck_note")
    handover = FirmRelatedField(model=Handover)
    acceptance_item = FirmRelatedField(model=AcceptanceItem, required=False, allow_null=True)
    owner = FirmMemberField(help_text="User id of the staff member who puts it right.")
    worksite = serializers.IntegerField(source="handover.worksite_id", read_only=True)
    owner_name = serializers.CharField(source="owner", read_only=True)
    overdue = serializers.SerializerMethodField(help_text="Open and past its deadline in the firm's time zone.")

    class Meta:
        model = RectificationItem
        fields = [
            "id",
            "handover",
            "worksite",
            "acceptance_item",
            "description",
            "owner",
            "owner_name",
            "deadline",
            "status",
            "overdue",
            "fixed_at",
            "rechecked_at",
            "rechecked_by",
            "recheck_note",
            "overdue_raised_on",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "worksite",
            "owner_name",
            "status",
            "overdue",
            "fixed_at",
            "rechecked_at",
            "rechecked_by",
            "recheck_note",
            "overdue_raised_on",
            "created_at",
        ]

    def get_overdue(self, item) -> bool:
        return item.status == RectificationItem.Status.OPEN and item.deadline < _today(self.context)


class HandoverDocumentSerializer(serializers.ModelSerializer):
    file_url = serializers.SerializerMethodField(help_text="A signed link, valid for a few hours.")

    class Meta:
        model = HandoverDocument
        fields = [
            "id",
            "handover",
            "kind",
            "title",
            "file_url",
            "content_type",
            "size",
            "original_name",
            "uploaded_by",
            "created_at",
        ]
        read_only_fields = fields

    def get_file_url(self, document) -> str:
        url = media_url(document.file)
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None and url.startswith("/") else url


class HandoverSerializer(serializers.ModelSerializer):
    items = AcceptanceItemSerializer(many=True, read_only=True)
    rectification_items = RectificationItemSerializer(many=True, read_only=True)
    documents = HandoverDocumentSerializer(many=True, read_only=True)
    missing_documents = serializers.SerializerMethodField(help_text="Required document kinds not uploaded yet.")

    class Meta:
        model = Handover
        fields = [
            "id",
            "worksite",
            "status",
            "started_at",
            "started_by",
            "handed_over_on",
            "completed_at",
            "completed_by",
            "items",
            "rectification_items",
            "documents",
            "missing_documents",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=HandoverDocument.Kind.choices)))
    def get_missing_documents(self, handover) -> list[str]:
        kinds = selectors.handover_documents_missing(handover=handover, documents=list(handover.documents.all()))
        return [str(kind) for kind in kinds]


# Input -------------------------------------------------------------------------------------------------------


class HandoverStartSerializer(serializers.Serializer):
    worksite = FirmIdField(model=Worksite)


class HandoverCompleteSerializer(serializers.Serializer):
    on = serializers.DateField(
        required=False, help_text="The handover date; today in the firm's time zone if left out."
    )


class HandoverDocumentUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=HandoverDocument.Kind.choices)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    file = serializers.FileField(source="upload", help_text="A PDF or a photo (JPEG, PNG, WebP).")


class FailedCheckRectificationSerializer(serializers.Serializer):
    description = serializers.CharField()
    owner = FirmMemberField()
    deadline = serializers.DateField()


class AcceptanceCheckSerializer(serializers.Serializer):
    passed = StrictBooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="")
    rectification = FailedCheckRectificationSerializer(
        required=False, help_text="Required when the check fails: what to put right, who, by when."
    )


class RectificationRecheckSerializer(serializers.Serializer):
    passed = StrictBooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="")
    new_deadline = serializers.DateField(required=False, help_text="Required when the re-check fails.")


# Viewsets ----------------------------------------------------------------------------------------------------


class HandoverViewSet(FirmListCreateRetrieveViewSet):
    """One handover per worksite. Creating one starts the acceptance with the firm's checklist (starting it
    again returns the one there is, 200)."""

    model = Handover
    permission_group = "worksites"
    serializer_class = HandoverSerializer
    filterset_fields = {"worksite": ["exact"], "status": ["exact"], "handed_over_on": ["gte", "lte"]}

    def scope_queryset(self, queryset):
        return queryset.prefetch_related(
            Prefetch("items", queryset=AcceptanceItem.objects.order_by("position")),
            Prefetch("rectification_items", queryset=RectificationItem.objects.select_related("owner").order_by("id")),
            Prefetch("documents", queryset=HandoverDocument.objects.order_by("kind", "id")),
        )

    @extend_schema(request=HandoverStartSerializer, responses={200: HandoverSerializer, 201: HandoverSerializer})
    def create(self, request, *args, **kwargs):
        data = validated_data(HandoverStartSerializer, request)
        existed = Handover.objects.filter(worksite=data["worksite"]).exists()
        return service_response(
            self,
            services.handover_start,
            reload=True,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
            worksite=data["worksite"],
            started_by=acting_user(request),
        )

    @extend_schema(request=HandoverCompleteSerializer, responses=HandoverSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return service_response(
            self,
            services.handover_complete,
            input=HandoverCompleteSerializer,
            reload=True,
            handover=self.get_object(),
            completed_by=acting_user(request),
        )

    @extend_schema(
        request={"multipart/form-data": HandoverDocumentUploadSerializer}, responses={201: HandoverDocumentSerializer}
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def documents(self, request, pk=None):
        return service_response(
            self,
            services.handover_document_add,
            input=HandoverDocumentUploadSerializer,
            output=HandoverDocumentSerializer,
            status=status.HTTP_201_CREATED,
            handover=self.get_object(),
            uploaded_by=acting_user(request),
        )


class RectificationItemFilter(django_filters.FilterSet):
    worksite = django_filters.NumberFilter(field_name="handover__worksite")
    owner = django_filters.NumberFilter(field_name="owner")
    overdue = django_filters.BooleanFilter(method="by_overdue", label="Open and past the deadline")

    class Meta:
        model = RectificationItem
        fields = {
            "handover": ["exact"],
            "acceptance_item": ["exact"],
            "status": ["exact"],
            "deadline": ["gte", "lte"],
        }

    def by_overdue(self, queryset, name, value):
        overdue = selectors.rectification_items_overdue(queryset, today=firm_today())
        return overdue if value else queryset.exclude(pk__in=overdue.values("pk"))


class RectificationItemViewSet(FirmListCreateRetrieveViewSet):
    """What must be put right before the handover, by whom and by when; fixed, then re-checked."""

    model = RectificationItem
    permission_group = "worksites"
    serializer_class = RectificationItemSerializer
    filterset_class = RectificationItemFilter

    def scope_queryset(self, queryset):
        return queryset.select_related("owner", "handover")

    def perform_create(self, serializer):
        serializer.instance = call_service(services.rectification_item_create, **serializer.validated_data)

    @extend_schema(request=None, responses=RectificationItemSerializer)
    @action(detail=True, methods=["post"])
    def fixed(self, request, pk=None):
        return service_response(
            self, services.rectification_item_mark_fixed, reload=True, item=self.get_object(), by=acting_user(request)
        )

    @extend_schema(request=RectificationRecheckSerializer, responses=RectificationItemSerializer)
    @action(detail=True, methods=["post"])
    def recheck(self, request, pk=None):
        return service_response(
            self,
            services.rectification_item_recheck,
            input=RectificationRecheckSerializer,
            reload=True,
            item=self.get_object(),
            rechecked_by=acting_user(request),
        )


class AcceptanceItemFilter(django_filters.FilterSet):
    worksite = django_filters.NumberFilter(field_name="handover__worksite")

    class Meta:
        model = AcceptanceItem
        fields = {"handover": ["exact"], "result": ["exact"]}


class AcceptanceItemViewSet(FirmReadOnlyViewSet):
    """The checks of each handover, copied from the firm's checklist; ``check`` records a result."""

    model = AcceptanceItem
    permission_group = "worksites"
    serializer_class = AcceptanceItemSerializer
    filterset_class = AcceptanceItemFilter

    @extend_schema(request=AcceptanceCheckSerializer, responses=AcceptanceItemSerializer)
    @action(detail=True, methods=["post"])
    def check(self, request, pk=None):
        return service_response(
            self,
            services.acceptance_item_check,
            input=AcceptanceCheckSerializer,
            item=self.get_object(),
            checked_by=acting_user(request),
        )
