import functools
from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from leads.apis import PropertyInputSerializer, call_service_with_property
from leads.models import Lead
from renocrm.accounts.access import may_see_costs
from renocrm.accounts.roles import PAYMENTS_SCOPE
from renocrm.api.costs import CostFieldsMixin, refuse_costs
from renocrm.api.fields import FirmMemberField
from renocrm.api.models import ApiKey
from renocrm.api.views import (
    FirmListCreateRetrieveViewSet,
    FirmReadOnlyViewSet,
    FirmRelatedField,
    acting_user,
    call_service,
    service_response,
    validated_data,
)
from renocrm.clientip import client_ip
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
    PriceItem,
    PricePackage,
    Quotation,
    QuotationItem,
    QuotationVersion,
    TradeCategory,
)
from .services import change_orders, design, payments, pricing, quotations, signing
from .services.settings import contract_settings_get

MONEY = {"max_digits": 14, "decimal_places": 2}
NOT_NEGATIVE = {"min_value": Decimal("0")}


# Quotations ---------------------------------------------------------------------------------------------

COSTS_HELP = "What the line costs the firm. Null for a caller without costs:read, who cannot set it either."


@extend_schema_field(OpenApiTypes.INT)
class FirmIdField(FirmRelatedField):
    """A firm row named by its id in an action's input, which has no model to tell the schema its type."""


class ItemSerializer(CostFieldsMixin, MaskedContactsMixin, serializers.ModelSerializer):
    text_fields = ("note",)
    cost_fields = ("cost_price",)
    category = serializers.ChoiceField(choices=TradeCategory.choices)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2, **NOT_NEGATIVE)
    unit_price = serializers.DecimalField(**MONEY, **NOT_NEGATIVE)
    cost_price = serializers.DecimalField(**MONEY, allow_null=True, read_only=True, help_text=COSTS_HELP)

    class Meta:
        model = QuotationItem
        fields = ["id", "position", *quotations.LINE_FIELDS, "amount"]
        read_only_fields = fields


class ItemInputSerializer(serializers.Serializer):
    """A line to write. With ``price_item`` the library item fills what the line leaves out (category, code,
    name, unit, unit price, brand and, for a caller with costs:read, the cost price)."""

    id = serializers.IntegerField(
        required=False,
        help_text="The saved line this one replaces (keeps its cost price for a caller without costs:read).",
    )
    room = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    category = serializers.ChoiceField(choices=TradeCategory.choices, required=False)
    price_item = FirmIdField(model=PriceItem, required=False, allow_null=True)
    code = serializers.CharField(max_length=40, required=False, allow_blank=True)
    name = serializers.CharField(max_length=200, required=False)
    unit = serializers.CharField(max_length=20, required=False)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2, **NOT_NEGATIVE)
    unit_price = serializers.DecimalField(**MONEY, **NOT_NEGATIVE, required=False)
    cost_price = serializers.DecimalField(
        **MONEY, **NOT_NEGATIVE, required=False, allow_null=True, help_text=COSTS_HELP
    )
    brand_model = serializers.CharField(max_length=200, required=False, allow_blank=True)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)
    discount = serializers.DecimalField(
        **MONEY, **NOT_NEGATIVE, required=False, help_text="Amount off this line (at most the line's amount)."
    )

    def validate(self, attrs):
        if attrs.get("price_item") is None:
            missing = [f for f in ("category", "name", "unit", "unit_price") if attrs.get(f) in (None, "")]
            if missing:
                raise serializers.ValidationError(
                    {field: ["This field is required for a line without a price_item."] for field in missing}
                )
        return attrs


class RoomSubtotalSerializer(serializers.Serializer):
    room = serializers.CharField()
    lines = serializers.IntegerField()
    subtotal = serializers.DecimalField(**MONEY)


class TradeSubtotalSerializer(serializers.Serializer):
    trade = serializers.ChoiceField(choices=TradeCategory.choices)
    label = serializers.CharField()
    lines = serializers.IntegerField()
    subtotal = serializers.DecimalField(**MONEY)


VERSION_FIELDS = [
    "id",
    "quotation",
    "number",
    "status",
    "based_on",
    "note",
    "created_by",
    "priced_by",
    *pricing.FEE_FIELDS,
    "subtotal",
    "line_discounts",
    "management_fee",
    "tax",
    "total",
    "cost",
    "discount_approved_at",
    "discount_approved_by",
    "created_at",
    "sent_at",
    "accepted_at",
    "accepted_via",
    "accepted_name",
]


class VersionSerializer(CostFieldsMixin, MaskedContactsMixin, serializers.ModelSerializer):
    """A version with its lines (each naming its room), the room and trade subtotals, fees and the amounts made
    by the one rounding rule (docs/apps/contracts.md). ``cost``, ``margin`` and ``margin_percent`` are null
    without costs:read."""

    text_fields = ("note", "discount_reason")
    cost_fields = ("cost", "margin", "margin_percent")
    items = ItemSerializer(many=True, read_only=True)
    cost = serializers.DecimalField(**MONEY, allow_null=True, read_only=True, help_text=COSTS_HELP)
    before_tax = serializers.SerializerMethodField(help_text="subtotal + fees − discount: the total less tax.")
    margin = serializers.SerializerMethodField(help_text="before_tax − cost; null without costs:read.")
    margin_percent = serializers.SerializerMethodField(help_text="margin as % of before_tax; null without costs:read.")
    discount_percent = serializers.SerializerMethodField(
        help_text="Line discounts and the discount on the total as % of the lines before their discounts."
    )
    discount_needs_approval = serializers.SerializerMethodField(
        help_text="The discounts are over the firm's threshold and not yet approved: sending is refused until a "
        "manager other than the author and priced_by approves (POST approve-discount/)."
    )
    room_subtotals = serializers.SerializerMethodField()
    trade_subtotals = serializers.SerializerMethodField()

    class Meta:
        model = QuotationVersion
        fields = [
            *VERSION_FIELDS,
            "before_tax",
            "margin",
            "margin_percent",
            "discount_percent",
            "discount_needs_approval",
            "room_subtotals",
            "trade_subtotals",
            "items",
        ]
        read_only_fields = VERSION_FIELDS
        extra_kwargs = {
            "accepted_via": {"allow_blank": True},  # "" until the version is accepted
            "discount_approved_at": {"allow_null": True},
        }

    @extend_schema_field(serializers.DecimalField(**MONEY))
    def get_before_tax(self, version) -> str:
        return str(pricing.before_tax(version))

    @extend_schema_field(serializers.DecimalField(**MONEY, allow_null=True))
    def get_margin(self, version):
        return str(pricing.margin(version)[0])

    @extend_schema_field(serializers.DecimalField(max_digits=7, decimal_places=1, allow_null=True))
    def get_margin_percent(self, version):
        percent = pricing.margin(version)[1]
        return None if percent is None else str(percent)

    @extend_schema_field(serializers.DecimalField(max_digits=7, decimal_places=2))
    def get_discount_percent(self, version) -> str:
        return str(pricing.discount_percent(version))

    def get_discount_needs_approval(self, version) -> bool:
        if version.status != QuotationVersion.Status.DRAFT or version.discount_approved_at is not None:
            return False
        threshold = self.context.get("discount_approval_percent")
        return quotations.discount_needs_approval(version, threshold_percent=threshold() if threshold else None)

    @extend_schema_field(RoomSubtotalSerializer(many=True))
    def get_room_subtotals(self, version):
        return RoomSubtotalSerializer(selectors.quotation_room_subtotals(version.items.all()), many=True).data

    @extend_schema_field(TradeSubtotalSerializer(many=True))
    def get_trade_subtotals(self, version):
        return TradeSubtotalSerializer(selectors.quotation_trade_subtotals(version.items.all()), many=True).data


class QuotationSerializer(serializers.ModelSerializer):
    lead = FirmRelatedField(model=Lead)
    items = ItemInputSerializer(many=True, write_only=True, required=False)
    versions = VersionSerializer(many=True, read_only=True)

    class Meta:
        model = Quotation
        fields = ["id", "lead", "title", "created_at", "items", "versions"]
        read_only_fields = ["id", "created_at", "versions"]


class DiscountThresholdMixin:
    def get_serializer_context(self):
        # Read at most once per request, and only when a draft needs it.
        return {
            **super().get_serializer_context(),
            "discount_approval_percent": functools.cache(lambda: contract_settings_get().discount_approval_percent),
        }


class QuotationViewSet(DiscountThresholdMixin, FirmListCreateRetrieveViewSet):
    model = Quotation
    permission_group = "contracts"
    serializer_class = QuotationSerializer
    filterset_fields = ["lead"]

    def scope_queryset(self, queryset):
        return queryset.prefetch_related("versions__items")

    def perform_create(self, serializer):
        refuse_costs(self.request, serializer.validated_data.get("items"))
        serializer.instance = call_service(
            quotations.quotation_create,
            by=acting_user(self.request),
            with_costs=may_see_costs(self.request),
            **serializer.validated_data,
        )


class SetItemsSerializer(serializers.Serializer):
    items = ItemInputSerializer(many=True, allow_empty=False)


class SetFeesSerializer(serializers.Serializer):
    """Fees, tax and the discount on the total; those left out stay as they are."""

    management_fee_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal("0"), max_value=Decimal("100"), required=False
    )
    design_fee = serializers.DecimalField(**MONEY, **NOT_NEGATIVE, required=False)
    transport_fee = serializers.DecimalField(**MONEY, **NOT_NEGATIVE, required=False)
    other_fee = serializers.DecimalField(**MONEY, **NOT_NEGATIVE, required=False)
    other_fee_label = serializers.CharField(max_length=100, required=False, allow_blank=True)
    tax_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal("0"), max_value=Decimal("100"), required=False
    )
    discount = serializers.DecimalField(**MONEY, **NOT_NEGATIVE, required=False)
    discount_reason = serializers.CharField(max_length=300, required=False, allow_blank=True)


class CopyLinesSerializer(serializers.Serializer):
    source = FirmIdField(model=QuotationVersion, help_text="The version (any quotation of this firm) to copy from.")


class FillFromPackageSerializer(serializers.Serializer):
    package = FirmIdField(model=PricePackage)
    area = serializers.DecimalField(
        max_digits=8,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        allow_null=True,
        help_text="Floor area in m²; the lead's property's when left out.",
    )


class AcceptSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text="Who accepted, as the customer signed.")


class ApprovesDiscounts(BasePermission):
    """A discount over the firm's threshold is approved by a signed-in member with discounts.approve (a firm
    admin by default); a partner's key is nobody's approval. The service refuses the version's author."""

    def has_permission(self, request, view):
        if getattr(request._request, "tenant", None) is None or isinstance(request.auth, ApiKey):
            return False
        membership = getattr(request._request, "membership", None)
        return membership is not None and membership.has_perm(quotations.DISCOUNT_APPROVAL)


class QuotationVersionViewSet(DiscountThresholdMixin, FirmReadOnlyViewSet):
    """Versions: replace a draft's lines, set its fees, copy lines from another version or fill it from a
    package, approve a large discount, send it (it freezes), copy it into a new draft, record the customer's
    acceptance, compare two versions."""

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
        version = self.get_object()
        data = validated_data(SetItemsSerializer, request)
        refuse_costs(request, data["items"])
        call_service(
            quotations.quotation_version_set_items,
            version=version,
            items=data["items"],
            by=acting_user(request),
            with_costs=may_see_costs(request),
        )
        return self._answer(version)

    @extend_schema(request=SetFeesSerializer, responses=VersionSerializer)
    @action(detail=True, methods=["post"], url_path="set-fees")
    def set_fees(self, request, pk=None):
        return service_response(
            self,
            quotations.quotation_version_set_fees,
            input=SetFeesSerializer,
            reload=True,
            version=self.get_object(),
            by=acting_user(request),
        )

    @extend_schema(request=CopyLinesSerializer, responses=VersionSerializer)
    @action(detail=True, methods=["post"], url_path="copy-lines")
    def copy_lines(self, request, pk=None):
        return service_response(
            self,
            quotations.quotation_version_copy_lines,
            input=CopyLinesSerializer,
            reload=True,
            version=self.get_object(),
            by=acting_user(request),
        )

    @extend_schema(request=FillFromPackageSerializer, responses=VersionSerializer)
    @action(detail=True, methods=["post"], url_path="fill-from-package")
    def fill_from_package(self, request, pk=None):
        return service_response(
            self,
            quotations.quotation_version_fill_from_package,
            input=FillFromPackageSerializer,
            reload=True,
            version=self.get_object(),
            by=acting_user(request),
        )

    @extend_schema(
        request=None,
        responses=VersionSerializer,
        description="Needs a signed-in member with discounts.approve who neither wrote the version nor last changed "
        "its lines, fees or discount (403 for a key or without the permission; 400 on discount_approved_by for the "
        "author and for priced_by).",
    )
    @action(detail=True, methods=["post"], url_path="approve-discount", permission_classes=[ApprovesDiscounts])
    def approve_discount(self, request, pk=None):
        return service_response(
            self, quotations.quotation_version_approve_discount, version=self.get_object(), by=acting_user(request)
        )

    def _answer(self, version):
        fresh = self.get_queryset().get(pk=version.pk)
        return Response(self.get_serializer_class()(fresh, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses=VersionSerializer)
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        return service_response(self, quotations.quotation_version_send, version=self.get_object())

    @extend_schema(request=None, responses={201: VersionSerializer})
    @action(detail=True, methods=["post"])
    def copy(self, request, pk=None):
        return service_response(
            self,
            quotations.quotation_version_copy,
            status=status.HTTP_201_CREATED,
            version=self.get_object(),
            by=acting_user(request),
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
            signing.contract_sign,
            version=data.pop("quotation_version"),
            by=acting_user(self.request),
            ip=client_ip(self.request),
            **data,
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
        settings = contract_settings_get()
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
    new_property = PropertyInputSerializer(
        write_only=True,
        required=False,
        help_text="Where to measure, for a lead without a property with an address (recorded as the lead's).",
    )

    class Meta:
        model = MeasurementAppointment
        fields = ["id", "lead", "scheduled_at", "designer", "new_property", "status", "notes", "created_at"]
        read_only_fields = ["id", "status", "created_at"]


class MeasurementAppointmentViewSet(FirmListCreateRetrieveViewSet):
    model = MeasurementAppointment
    permission_group = "contracts"
    serializer_class = MeasurementAppointmentSerializer
    filterset_fields = {"lead": ["exact"], "status": ["exact"], "scheduled_at": ["gte", "lte"]}

    def perform_create(self, serializer):
        serializer.instance = call_service_with_property(
            design.measurement_appointment_schedule, **serializer.validated_data
        )
