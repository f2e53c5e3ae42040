"""The item library and packages in the API: ``price-items/`` (with the XLSX ``import/``) and
``price-packages/``. Reading is contracts:read (contracts.view); changing them is contracts:write for a key and
library.manage for a signed-in member. ``cost_price`` is null in every answer to a caller without costs:read
(a member: costs.view), and such a caller may not set it (``renocrm.api.costs``)."""

from __future__ import annotations

from decimal import Decimal

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from renocrm.accounts.access import may_see_costs
from renocrm.api.costs import CostFieldsMixin
from renocrm.api.models import ApiKey
from renocrm.api.permissions import FirmPermission
from renocrm.api.views import FirmModelViewSet, FirmRelatedField, ReadPlanMixin, call_service, validated_data

from . import library_selectors
from .library_xlsx import read_price_item_rows
from .models import PriceItem, PricePackage, PricePackageLine
from .services import library

MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal("0")}
COSTS_HELP = "What the item costs the firm. Null for a caller without costs:read; setting it needs costs:read."


class LibraryPermission(FirmPermission):
    """FirmPermission, and a signed-in member changes the library only with library.manage (a firm admin by
    default): contracts.manage lets designers quote, not reprice the firm's items."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if request.method in SAFE_METHODS or isinstance(request.auth, ApiKey):
            return True
        membership = getattr(request._request, "membership", None)
        return membership is not None and membership.has_perm("library.manage")


# Price items ------------------------------------------------------------------------------------------------


class PriceItemSerializer(CostFieldsMixin, ReadPlanMixin, serializers.ModelSerializer):
    cost_fields = ("cost_price",)
    trade_label = serializers.CharField(source="get_trade_display", read_only=True)
    unit_price = serializers.DecimalField(**MONEY)
    cost_price = serializers.DecimalField(**MONEY, required=False, allow_null=True, help_text=COSTS_HELP)

    class Meta:
        model = PriceItem
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "trade",
            "trade_label",
            "unit",
            "unit_price",
            "cost_price",
            "description",
            "brand_model",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # Codes are unique per firm: the service checks (the firm is not a field here).
        validators = []

    def validate_cost_price(self, value):
        if value is None:
            raise serializers.ValidationError("Give a number (0 when there is no cost).")
        return value


class PriceItemFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Code starts with, or name / brand contains")
    active = django_filters.BooleanFilter(field_name="is_active", label="Active (true) or retired (false)")

    class Meta:
        model = PriceItem
        fields = ["trade", "kind", "active", "q"]

    def search(self, queryset, name, value):
        return library_selectors.price_items_matching(queryset, value)


class ImportInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The XLSX file (first sheet; header row as the export writes it).")


class ImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class PriceItemViewSet(FirmModelViewSet):
    """The firm's item library. Retire or reactivate an item with ``PATCH {"is_active": false}``."""

    model = PriceItem
    permission_group = "contracts"
    permission_classes = [LibraryPermission]
    serializer_class = PriceItemSerializer
    filterset_class = PriceItemFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def perform_create(self, serializer):
        serializer.instance = call_service(library.price_item_create, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = call_service(
            library.price_item_update, item=serializer.instance, **serializer.validated_data
        )

    @extend_schema(
        request={"multipart/form-data": ImportInputSerializer},
        responses=ImportResultSerializer,
        description="Create or update items by code from an XLSX file, all or nothing: a file with any wrong "
        'row answers 400 with every row\'s error under `file` ("Row 12: unit price must be a number.") and '
        "changes nothing. At most 5 MB and 5,000 rows. A cost price column needs costs:read.",
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser, FormParser])
    def import_items(self, request):
        upload = validated_data(ImportInputSerializer, request)["file"]
        rows = call_service(read_price_item_rows, upload=upload, with_costs=may_see_costs(request))
        result = call_service(library.price_items_import, rows=rows)
        return Response(ImportResultSerializer(result).data)


# Packages ---------------------------------------------------------------------------------------------------


class PackageLineSerializer(serializers.ModelSerializer):
    price_item = FirmRelatedField(model=PriceItem, help_text="A library item's id.")
    code = serializers.CharField(source="price_item.code", read_only=True)
    name = serializers.CharField(source="price_item.name", read_only=True)
    unit = serializers.CharField(source="price_item.unit", read_only=True)
    unit_price = serializers.DecimalField(
        source="price_item.unit_price", read_only=True, max_digits=14, decimal_places=2
    )
    quantity = serializers.DecimalField(
        max_digits=12,
        decimal_places=3,
        min_value=Decimal("0"),
        help_text="A fixed quantity (two decimals at most), or a quantity per m² of floor area (basis per_area).",
    )

    class Meta:
        model = PricePackageLine
        fields = ["id", "position", "room", "price_item", "code", "name", "unit", "unit_price", "basis", "quantity"]
        read_only_fields = ["id", "position"]


class PricePackageSerializer(serializers.ModelSerializer):
    lines = PackageLineSerializer(
        many=True, required=False, help_text="In order. Given on an update, they replace the package's lines."
    )

    class Meta:
        model = PricePackage
        fields = ["id", "name", "package_type", "description", "is_active", "created_at", "lines", "updated_at"]
        read_only_fields = ["id", "created_at"]
        validators = []


class PricePackageFilter(django_filters.FilterSet):
    active = django_filters.BooleanFilter(field_name="is_active", label="Active (true) or retired (false)")

    class Meta:
        model = PricePackage
        fields = ["package_type", "active"]


def _lines(data: dict) -> dict:
    if "lines" in data:
        data["lines"] = [dict(line) for line in data["lines"]]
    return data


class PricePackageViewSet(FirmModelViewSet):
    """The firm's packages (全包 / 半包 / per-m²) with their lines; retire with ``PATCH {"is_active": false}``."""

    model = PricePackage
    permission_group = "contracts"
    permission_classes = [LibraryPermission]
    serializer_class = PricePackageSerializer
    filterset_class = PricePackageFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def scope_queryset(self, queryset):
        return queryset.prefetch_related(library_selectors.package_lines_prefetch())

    def perform_create(self, serializer):
        serializer.instance = call_service(library.price_package_create, **_lines(dict(serializer.validated_data)))

    def perform_update(self, serializer):
        serializer.instance = call_service(
            library.price_package_update, package=serializer.instance, **_lines(dict(serializer.validated_data))
        )
