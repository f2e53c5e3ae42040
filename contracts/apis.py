import functools
from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
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
            "updated_at",
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
        fields = ["id", "lead", "title", "created_at", "items", "versions", "updated_at"]
        read_only_fields = ["id", "created_at", "versions"]


class DiscountThresholdMixin:
    def get_serializer_context(self):
        # Read at most once per request, and only when a draft needs it.
        return {
            **super().get_serializer_context(),
            "discount_approval_percent": functools.cache(lambda: contract_settings_get().discount_approval_percent),
        }


QUOTATION_LINE_EXAMPLE = {
    "id": 1,
    "position": 1,
    "room": "Kitchen",
    "category": "plumbing_electrical",
    "price_item": None,
    "code": "",
    "name": "Rewire kitchen sockets",
    "unit": "m",
    "quantity": "25.00",
    "unit_price": "48.00",
    "cost_price": None,
    "brand_model": "",
    "note": "",
    "discount": "0.00",
    "amount": "1200.00",
}
QUOTATION_EXAMPLE = {
    "id": 1,
    "lead": 7,
    "title": "Whole-home renovation",
    "created_at": "2026-05-08T10:26:50.728829+08:00",
    "updated_at": "2026-05-08T10:26:50.728835+08:00",
    "versions": [
        {
            "id": 1,
            "quotation": 1,
            "number": 1,
            "status": "draft",
            "based_on": None,
            "note": "",
            "created_by": None,
            "priced_by": None,
            "management_fee_percent": "0.00",
            "design_fee": "0.00",
            "transport_fee": "0.00",
            "other_fee": "0.00",
            "other_fee_label": "",
            "tax_percent": "0.00",
            "discount": "0.00",
            "discount_reason": "",
            "subtotal": "1200.00",
            "line_discounts": "0.00",
            "management_fee": "0.00",
            "tax": "0.00",
            "total": "1200.00",
            "cost": None,
            "discount_approved_at": None,
            "discount_approved_by": None,
            "created_at": "2026-05-08T10:26:50.732441+08:00",
            "updated_at": "2026-05-08T10:31:02.114507+08:00",
            "sent_at": None,
            "accepted_at": None,
            "accepted_via": "",
            "accepted_name": "",
            "before_tax": "1200.00",
            "margin": None,
            "margin_percent": None,
            "discount_percent": "0.00",
            "discount_needs_approval": False,
            "room_subtotals": [{"room": "Kitchen", "lines": 1, "subtotal": "1200.00"}],
            "trade_subtotals": [
                {"trade": "plumbing_electrical", "label": "Plumbing & electrical", "lines": 1, "subtotal": "1200.00"}
            ],
            "items": [QUOTATION_LINE_EXAMPLE],
        }
    ],
}


@extend_schema_view(
    list=extend_schema(
        description="The firm's quotations, newest first, each with all its versions and their lines; `lead` "
        "narrows to one lead's. Cost prices and margins are null without the `costs:read` scope.",
        examples=[OpenApiExample("A quotation", value=QUOTATION_EXAMPLE, response_only=True)],
    ),
    create=extend_schema(
        description="Starts a quotation for a lead, with `items` as the lines of its first version (a draft). A line "
        "with `price_item` takes what it leaves out from the firm's item library; a line without one needs "
        "`category`, `name`, `unit` and `unit_price`. Fees, sending and acceptance are actions on "
        "`quotation-versions/`.",
        examples=[
            OpenApiExample(
                "A quotation with one line",
                value={
                    "lead": 7,
                    "title": "Whole-home renovation",
                    "items": [
                        {
                            "room": "Kitchen",
                            "category": "plumbing_electrical",
                            "name": "Rewire kitchen sockets",
                            "unit": "m",
                            "quantity": "25",
                            "unit_price": "48.00",
                        }
                    ],
                },
                request_only=True,
            ),
            OpenApiExample("The quotation made", value=QUOTATION_EXAMPLE, response_only=True),
        ],
    ),
    retrieve=extend_schema(
        description="One quotation of the firm with all its versions and their lines.",
        examples=[OpenApiExample("A quotation", value=QUOTATION_EXAMPLE, response_only=True)],
    ),
)
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
        description="For a signed-in member with the discounts.approve permission who neither wrote the version "
        "nor last changed its lines, fees or discount: an API key gets 403 (as does a member without the "
        "permission); the author and `priced_by` get 400 on `discount_approved_by`.",
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
            "updated_at",
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
            "updated_at",
        ]
        read_only_fields = ["id", "project", "original_amount", "amount", "created_at"]


INSTALMENT_EXAMPLE = {
    "id": 11,
    "contract": 4,
    "sequence": 1,
    "kind": "deposit",
    "amount": "36000.00",
    "trigger": "on_signing",
    "due_days_after_trigger": 0,
    "trigger_phase": "",
    "due_on": "2026-05-20",
    "paid_on": "2026-05-21",
    "paid_amount": "36000.00",
    "recorded_by": None,
    "updated_at": "2026-05-21T11:02:40.530112+08:00",
}
CONTRACT_EXAMPLE = {
    "id": 4,
    "project": 4,
    "number": "HT-2026-0003",
    "package_type": "full",
    "quotation_version": 3,
    "original_amount": "120000.00",
    "amount": "120000.00",
    "planned_start": "2026-06-01",
    "planned_end": "2026-09-30",
    "terms": "",
    "signed_on": "2026-05-20",
    "created_at": "2026-05-20T15:02:11.196659+08:00",
    "updated_at": "2026-05-20T15:02:11.196665+08:00",
    "main_materials": [
        {
            "id": 2,
            "name": "Floor tiles 600×600",
            "brand_model": "Marco Polo CZ6001",
            "unit": "m²",
            "quantity": "62.00",
            "unit_price": "120.00",
            "amount": "7440.00",
            "updated_at": "2026-05-20T15:02:11.201417+08:00",
        }
    ],
    "instalments": [
        INSTALMENT_EXAMPLE,
        {
            **INSTALMENT_EXAMPLE,
            "id": 12,
            "sequence": 2,
            "kind": "midterm",
            "amount": "48000.00",
            "trigger": "mid_inspection",
            "due_days_after_trigger": 3,
            "due_on": None,
            "paid_on": None,
            "paid_amount": None,
        },
        {
            **INSTALMENT_EXAMPLE,
            "id": 13,
            "sequence": 3,
            "kind": "final",
            "amount": "36000.00",
            "trigger": "acceptance",
            "due_days_after_trigger": 7,
            "due_on": None,
            "paid_on": None,
            "paid_amount": None,
        },
    ],
}


@extend_schema_view(
    list=extend_schema(
        description="The firm's signed contracts, newest first, each with its main materials and payment schedule. "
        "Filter by `package_type`, the day signed or the customer (`project__customer`).",
        examples=[OpenApiExample("A contract", value=CONTRACT_EXAMPLE, response_only=True)],
    ),
    create=extend_schema(
        description="Signs a contract for an accepted quotation version: the lead is won, the project opens and the "
        "payment schedule is set, all at once. Without `instalments` the schedule is the firm's default split; "
        "a schedule given must add up to the amount. An instalment with the `phase_acceptance` trigger names its "
        "phase in `trigger_phase`. `number` is the firm's contract number, unique in the firm.",
        examples=[
            OpenApiExample(
                "A contract with its schedule",
                value={
                    "quotation_version": 3,
                    "number": "HT-2026-0003",
                    "package_type": "full",
                    "planned_start": "2026-06-01",
                    "planned_end": "2026-09-30",
                    "signed_on": "2026-05-20",
                    "instalments": [
                        {"kind": "deposit", "amount": "36000.00", "trigger": "on_signing"},
                        {
                            "kind": "midterm",
                            "amount": "48000.00",
                            "trigger": "mid_inspection",
                            "due_days_after_trigger": 3,
                        },
                        {"kind": "final", "amount": "36000.00", "trigger": "acceptance", "due_days_after_trigger": 7},
                    ],
                },
                request_only=True,
            ),
            OpenApiExample("The contract signed", value=CONTRACT_EXAMPLE, response_only=True),
        ],
    ),
    retrieve=extend_schema(
        description="One contract of the firm with its main materials and payment schedule; "
        "`GET contracts/{id}/pdf/` is the signed document.",
        examples=[OpenApiExample("A contract", value=CONTRACT_EXAMPLE, response_only=True)],
    ),
)
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


@extend_schema_view(
    list=extend_schema(
        description="The payment schedules of the firm's contracts, one row per instalment. `paid_on__isnull=true` "
        "lists those not received yet; `receivables/` adds each one's aging bucket.",
        examples=[OpenApiExample("A paid deposit", value=INSTALMENT_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        description="One instalment of a contract's payment schedule.",
        examples=[OpenApiExample("A paid deposit", value=INSTALMENT_EXAMPLE, response_only=True)],
    ),
)
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
        description="Records that the instalment was paid on `paid_on`; `amount`, if given, must be the "
        "instalment's. Needs the `payments:write` scope, which `contracts:write` does not include (a signed-in "
        "member: finance or a firm admin); 403 otherwise.",
        examples=[OpenApiExample("Paid today", value={"paid_on": "2026-05-21"}, request_only=True)],
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
            "updated_at",
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


CHANGE_ORDER_EXAMPLE = {
    "id": 1,
    "contract": 4,
    "number": 1,
    "reason": "Extra sockets in the study",
    "status": "draft",
    "additions": "160.00",
    "removals": "0.00",
    "lines": [
        {
            "id": 1,
            "kind": "addition",
            "category": "plumbing_electrical",
            "name": "Extra socket",
            "unit": "pc",
            "quantity": "2.00",
            "unit_price": "80.00",
            "amount": "160.00",
        }
    ],
    "requote_version": None,
    "needs_requote": False,
    "needs_manager_approval": False,
    "created_by": None,
    "created_at": "2026-07-02T09:14:20.138923+08:00",
    "decided_by": None,
    "decided_at": None,
    "updated_at": "2026-07-02T09:14:20.138930+08:00",
}


@extend_schema_view(
    list=extend_schema(
        description="Additions to and removals from the firm's signed contracts, newest first; filter by "
        "`contract` or `status`.",
        examples=[OpenApiExample("A draft change order", value=CHANGE_ORDER_EXAMPLE, response_only=True)],
    ),
    create=extend_schema(
        description="Writes a draft change order for a contract, with at least one line. `needs_requote` says "
        "when the contract's changes together pass the firm's threshold (10 % by default): a new quotation "
        "version must then be accepted before it can be approved; `needs_manager_approval`, when its own net "
        "change needs a firm admin other than its author.",
        examples=[
            OpenApiExample(
                "Two extra sockets",
                value={
                    "contract": 4,
                    "reason": "Extra sockets in the study",
                    "lines": [
                        {
                            "kind": "addition",
                            "category": "plumbing_electrical",
                            "name": "Extra socket",
                            "unit": "pc",
                            "quantity": "2",
                            "unit_price": "80.00",
                        }
                    ],
                },
                request_only=True,
            ),
            OpenApiExample("The draft change order", value=CHANGE_ORDER_EXAMPLE, response_only=True),
        ],
    ),
    retrieve=extend_schema(
        description="One change order with its lines and who wrote and decided it.",
        examples=[OpenApiExample("A draft change order", value=CHANGE_ORDER_EXAMPLE, response_only=True)],
    ),
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
        fields = ["id", "lead", "fee", "signed_on", "paid", "paid_on", "notes", "created_at", "updated_at"]
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
        fields = [
            "id",
            "lead",
            "scheduled_at",
            "designer",
            "new_property",
            "status",
            "notes",
            "created_at",
            "updated_at",
        ]
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
