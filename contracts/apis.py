from decimal import Decimal

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from leads.models import Lead
from renocrm.accounts.roles import PAYMENTS_SCOPE
from renocrm.api.fields import FirmMemberField
from renocrm.api.models import ApiKey
from renocrm.api.views import (
    FirmListCreateRetrieveViewSet,
    FirmReadOnlyViewSet,
    FirmRelatedField,
    acting_user,
    call_service,
    service_response,
)
from renocrm.privacy.serializers import MaskedContactsMixin

from . import phases, selectors
from .models import (
    ChangeOrder,
    ChangeOrderLine,
    Contract,
    DesignAgreement,
    Instalment,
    MainMaterialLine,
    MeasurementAppointment,
    Quotation,
    QuotationItem,
    QuotationVersion,
    TradeCategory,
)
from .services import change_orders, design, payments, quotations, signing

MONEY = {"max_digits": 14, "decimal_places": 2}
NOT_NEGATIVE = {"min_value": Decimal("0")}


# Quotations ---------------------------------------------------------------------------------------------


class ItemSerializer(serializers.ModelSerializer):
    category = serializers.ChoiceField(choices=TradeCategory.choices)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2, **NOT_NEGATIVE)
    unit_price = serializers.DecimalField(**MONEY, **NOT_NEGATIVE)

    class Meta:
        model = QuotationItem
        fields = ["id", "position", "category", "name", "unit", "quantity", "unit_price", "brand_model", "amount"]
        read_only_fields = ["id", "position", "amount"]


class VersionSerializer(MaskedContactsMixin, serializers.ModelSerializer):
    text_fields = ("note",)
    items = ItemSerializer(many=True, read_only=True)

    class Meta:
        model = QuotationVersion
        fields = [
            "id",
            "quotation",
            "number",
            "status",
            "based_on",
            "note",
            "total",
            "created_at",
            "sent_at",
            "accepted_at",
            "accepted_via",
            "accepted_name",
            "items",
        ]
        read_only_fields = fields
        extra_kwargs = {"accepted_via": {"allow_blank": True}}  # "" until the version is accepted


class QuotationSerializer(serializers.ModelSerializer):
    lead = FirmRelatedField(model=Lead)
    items = ItemSerializer(many=True, write_only=True, required=False)
    versions = VersionSerializer(many=True, read_only=True)

    class Meta:
        model = Quotation
        fields = ["id", "lead", "title", "created_at", "items", "versions"]
        read_only_fields = ["id", "created_at", "versions"]


class QuotationViewSet(FirmListCreateRetrieveViewSet):
    model = Quotation
    permission_group = "contracts"
    serializer_class = QuotationSerializer
    filterset_fields = ["lead"]

    def scope_queryset(self, queryset):
        return queryset.prefetch_related("versions__items")

    def perform_create(self, serializer):
        serializer.instance = call_service(
            quotations.quotation_create, by=acting_user(self.request), **serializer.validated_data
        )


class SetItemsSerializer(serializers.Serializer):
    items = ItemSerializer(many=True, allow_empty=False)


class AcceptSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text="Who accepted, as the customer signed.")


class QuotationVersionViewSet(FirmReadOnlyViewSet):
    """Versions: replace a draft's items, send it (it freezes), copy it into a new draft, record the
    customer's acceptance, compare two versions."""

    model = QuotationVersion
    action_query_parameters = {"compare": frozenset({"with"})}
    permission_group = "contracts"
    serializer_class = VersionSerializer
    filterset_fields = ["quotation", "status"]

    def scope_queryset(self, queryset):
        return queryset.prefetch_related("items")

    @extend_schema(request=SetItemsSerializer, responses=VersionSerializer)
    @action(detail=True, methods=["post"], url_path="set-items")
    def set_items(self, request, pk=None):
        return service_response(
            self,
            quotations.quotation_version_set_items,
            input=SetItemsSerializer,
            reload=True,
            version=self.get_object(),
        )

    @extend_schema(request=None, responses=VersionSerializer)
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        return service_response(self, quotations.quotation_version_send, version=self.get_object())

    @extend_schema(request=None, responses={201: VersionSerializer})
    @action(detail=True, methods=["post"])
    def copy(self, request, pk=None):
        return service_response(
            self, quotations.quotation_version_copy, status=status.HTTP_201_CREATED, version=self.get_object()
        )

    @extend_schema(request=AcceptSerializer, responses=VersionSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return service_response(
            self,
            quotations.quotation_version_accept,
            input=AcceptSerializer,
            version=self.get_object(),
            via=QuotationVersion.AcceptedVia.STAFF,
            by=acting_user(request),
        )

    @extend_schema(
        parameters=[OpenApiParameter("with", int, required=True, description="The other version's id.")], responses=dict
    )
    @action(detail=True, methods=["get"])
    def compare(self, request, pk=None):
        old = self.get_object()
        try:
            new = self.get_queryset().get(pk=int(request.query_params.get("with", "")), quotation_id=old.quotation_id)
        except (ValueError, QuotationVersion.DoesNotExist):
            raise serializers.ValidationError({"with": ["Name another version of the same quotation."]}) from None
        return Response(selectors.quotation_versions_compare(old=old, new=new))


# Contracts ----------------------------------------------------------------------------------------------


class MainMaterialSerializer(serializers.ModelSerializer):
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2, **NOT_NEGATIVE)
    unit_price = serializers.DecimalField(**MONEY, **NOT_NEGATIVE)

    class Meta:
        model = MainMaterialLine
        fields = ["id", "name", "brand_model", "unit", "quantity", "unit_price", "amount"]
        read_only_fields = ["id", "amount"]


class PhaseKindField(serializers.ChoiceField):
    """One of the phase kinds construction registers (``contracts.phases``), or blank. DRF makes every
    serializer's fields anew from their arguments, so the choices are read then, after the apps are ready."""

    def __init__(self, **kwargs):
        super().__init__(choices=phases.phase_kind_choices(), allow_blank=True, required=False, **kwargs)


class InstalmentSerializer(serializers.ModelSerializer):
    amount = serializers.DecimalField(**MONEY, **NOT_NEGATIVE)
    trigger_phase = PhaseKindField(
        help_text="With the phase_acceptance trigger: the phase (its kind) whose acceptance makes it due."
    )

    class Meta:
        model = Instalment
        fields = [
            "id",
            "contract",
            "sequence",
            "kind",
            "amount",
            "trigger",
            "due_days_after_trigger",
            "trigger_phase",
            "due_on",
            "paid_on",
            "paid_amount",
            "recorded_by",
        ]
        read_only_fields = ["id", "contract", "sequence", "paid_on", "paid_amount", "recorded_by"]


class ContractSerializer(MaskedContactsMixin, serializers.ModelSerializer):
    text_fields = ("terms",)
    quotation_version = FirmRelatedField(model=QuotationVersion)
    main_materials = MainMaterialSerializer(many=True, required=False)
    instalments = InstalmentSerializer(many=True, required=False)

    class Meta:
        model = Contract
        fields = [
            "id",
            "project",
            "number",
            "package_type",
            "quotation_version",
            "original_amount",
            "amount",
            "planned_start",
            "planned_end",
            "terms",
            "signed_on",
            "created_at",
            "main_materials",
            "instalments",
        ]
        read_only_fields = ["id", "project", "original_amount", "amount", "created_at"]


class ContractViewSet(FirmListCreateRetrieveViewSet):
    """Creating a contract signs it: the lead is won, the project opens, the payment schedule is set."""

    model = Contract
    permission_group = "contracts"
    serializer_class = ContractSerializer
    filterset_fields = {"package_type": ["exact"], "signed_on": ["gte", "lte"], "project__customer": ["exact"]}

    def scope_queryset(self, queryset):
        return queryset.prefetch_related("main_materials", "instalments")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = call_service(
            signing.contract_sign, version=data.pop("quotation_version"), by=acting_user(self.request), **data
        )


class PaymentSerializer(serializers.Serializer):
    paid_on = serializers.DateField()
    amount = serializers.DecimalField(**MONEY, min_value=Decimal("0.01"), required=False)


class RecordsPayments(BasePermission):
    """Recording a payment is finance's: a signed-in finance member or firm admin (payments.manage), or a key
    with the payments:write scope — which contracts:write does not give."""

    def has_permission(self, request, view):
        if getattr(request._request, "tenant", None) is None:
            return False
        if isinstance(request.auth, ApiKey):
            return PAYMENTS_SCOPE in request.auth.scopes
        membership = getattr(request._request, "membership", None)
        return membership is not None and membership.has_perm("payments.manage")


class InstalmentViewSet(FirmReadOnlyViewSet):
    model = Instalment
    permission_group = "contracts"
    serializer_class = InstalmentSerializer
    filterset_fields = {
        "contract": ["exact"],
        "kind": ["exact"],
        "due_on": ["gte", "lte"],
        "paid_on": ["isnull", "gte", "lte"],
    }

    @extend_schema(
        request=PaymentSerializer,
        responses=InstalmentSerializer,
        description="Needs the payments:write scope (a session: finance or a firm admin).",
    )
    @action(detail=True, methods=["post"], url_path="record-payment", permission_classes=[RecordsPayments])
    def record_payment(self, request, pk=None):
        return service_response(
            self,
            payments.instalment_record_payment,
            input=PaymentSerializer,
            instalment=self.get_object(),
            by=acting_user(request),
            api_key=request.auth if isinstance(request.auth, ApiKey) else None,
        )


# Change orders -------------------------------------------------------------------------------------------


class ChangeOrderLineSerializer(serializers.ModelSerializer):
    category = serializers.ChoiceField(choices=TradeCategory.choices)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    unit_price = serializers.DecimalField(**MONEY, **NOT_NEGATIVE)

    class Meta:
        model = ChangeOrderLine
        fields = ["id", "kind", "category", "name", "unit", "quantity", "unit_price", "amount"]
        read_only_fields = ["id", "amount"]


class ChangeOrderSerializer(MaskedContactsMixin, serializers.ModelSerializer):
    text_fields = ("reason",)
    contract = FirmRelatedField(model=Contract)
    lines = ChangeOrderLineSerializer(many=True, allow_empty=False)
    needs_requote = serializers.SerializerMethodField()
    needs_manager_approval = serializers.SerializerMethodField(
        help_text="A firm admin other than its author must approve it: its net change is more than the firm's "
        "approval share of the signed amount."
    )

    class Meta:
        model = ChangeOrder
        fields = [
            "id",
            "contract",
            "number",
            "reason",
            "status",
            "additions",
            "removals",
            "lines",
            "requote_version",
            "needs_requote",
            "needs_manager_approval",
            "created_by",
            "created_at",
            "decided_by",
            "decided_at",
        ]
        read_only_fields = [
            "id",
            "number",
            "status",
            "additions",
            "removals",
            "requote_version",
            "created_by",
            "created_at",
            "decided_by",
            "decided_at",
        ]

    def get_needs_requote(self, order) -> bool:
        return change_orders.change_order_needs_requote(
            order=order,
            approved_changes=getattr(order, "approved_changes", None),
            threshold_percent=self.context.get("threshold_percent"),
        )

    def get_needs_manager_approval(self, order) -> bool:
        return change_orders.change_order_needs_manager(
            order=order, threshold_percent=self.context.get("approval_percent")
        )


class ChangeOrderViewSet(FirmListCreateRetrieveViewSet):
    model = ChangeOrder
    permission_group = "contracts"
    serializer_class = ChangeOrderSerializer
    filterset_fields = ["contract", "status"]

    def scope_queryset(self, queryset):
        return selectors.change_orders_with_totals(queryset).prefetch_related("lines")

    def get_serializer_context(self):
        # Read once per request, not once per row.
        settings = signing.contract_settings_get()
        return {
            **super().get_serializer_context(),
            "threshold_percent": settings.change_order_threshold_percent,
            "approval_percent": settings.change_order_approval_percent,
        }

    def perform_create(self, serializer):
        serializer.instance = call_service(
            change_orders.change_order_create, by=acting_user(self.request), **serializer.validated_data
        )

    @extend_schema(request=None, responses=ChangeOrderSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return service_response(
            self, change_orders.change_order_approve, order=self.get_object(), by=acting_user(request)
        )

    @extend_schema(request=None, responses=ChangeOrderSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return service_response(
            self, change_orders.change_order_reject, order=self.get_object(), by=acting_user(request)
        )


# Design agreements and measurement -------------------------------------------------------------------------


class DesignAgreementSerializer(MaskedContactsMixin, serializers.ModelSerializer):
    text_fields = ("notes",)
    lead = FirmRelatedField(model=Lead)
    fee = serializers.DecimalField(**MONEY, **NOT_NEGATIVE)

    class Meta:
        model = DesignAgreement
        fields = ["id", "lead", "fee", "signed_on", "paid", "paid_on", "notes", "created_at"]
        read_only_fields = ["id", "paid", "paid_on", "created_at"]


class AgreementPaymentSerializer(PaymentSerializer):
    """An agreement is paid in full: an amount, if given, is checked like an instalment's and not used."""

    def validate(self, attrs):
        attrs.pop("amount", None)
        return attrs


class DesignAgreementViewSet(FirmListCreateRetrieveViewSet):
    model = DesignAgreement
    permission_group = "contracts"
    serializer_class = DesignAgreementSerializer
    filterset_fields = ["lead", "paid"]

    def perform_create(self, serializer):
        serializer.instance = call_service(design.design_agreement_create, **serializer.validated_data)

    @extend_schema(request=PaymentSerializer, responses=DesignAgreementSerializer)
    @action(detail=True, methods=["post"], url_path="record-payment")
    def record_payment(self, request, pk=None):
        return service_response(
            self, design.design_agreement_mark_paid, input=AgreementPaymentSerializer, agreement=self.get_object()
        )


class MeasurementAppointmentSerializer(MaskedContactsMixin, serializers.ModelSerializer):
    text_fields = ("notes",)
    lead = FirmRelatedField(model=Lead)
    designer = FirmMemberField(required=False, allow_null=True, help_text="User id of the designer who measures.")

    class Meta:
        model = MeasurementAppointment
        fields = ["id", "lead", "scheduled_at", "designer", "status", "notes", "created_at"]
        read_only_fields = ["id", "status", "created_at"]


class MeasurementAppointmentViewSet(FirmListCreateRetrieveViewSet):
    model = MeasurementAppointment
    permission_group = "contracts"
    serializer_class = MeasurementAppointmentSerializer
    filterset_fields = {"lead": ["exact"], "status": ["exact"], "scheduled_at": ["gte", "lte"]}

    def perform_create(self, serializer):
        serializer.instance = call_service(design.measurement_appointment_schedule, **serializer.validated_data)
