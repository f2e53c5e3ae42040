"""``GET /api/v1/receivables/``: the instalments still to be received, with their aging bucket, days overdue,
contract, project, designer and project manager; ``GET /api/v1/receivables/totals/``: the count and amount per
bucket for the same filters. Finance's figures: a key needs the contracts:read scope, a signed-in member the
receivables.view permission (finance and firm admins)."""

from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model
from django.core.validators import EMPTY_VALUES
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from contracts import receivables as ledger
from contracts.models import Instalment
from renocrm.api.permissions import FirmPermission
from renocrm.api.views import FirmScopedMixin
from renocrm.tenancy.time import firm_today
from worksites.selectors.schedule import projects_managed_by

from .receivables import attach

PERMISSION = "receivables.view"


class ReceivablePermission(FirmPermission):
    """A key with contracts:read (the view's group), or a member who may see the receivables (finance, firm
    admins) rather than every member who may read contracts."""

    session_permission = PERMISSION


@extend_schema_field(OpenApiTypes.INT)
class ProjectManagerFilter(django_filters.ModelChoiceFilter):
    """The worksites a staff member manages. A filter over users, so the API narrows its choices to the
    firm's staff like every other (``renocrm.api.views._firm_filterset``)."""

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        return qs.filter(contract__project__in=projects_managed_by(user=value))


# Every user: the API narrows a filter over users to the firm's staff (``renocrm.api.views._firm_filterset``).
USERS = get_user_model().objects.all()


class ReceivableFilter(django_filters.FilterSet):
    bucket = django_filters.ChoiceFilter(
        choices=list(ledger.BUCKET_LABELS.items()),
        method="in_bucket",
        label="Aging bucket (firm-local today): overdue, 0-30, 31-60, 61-90, over-90, due, later or scheduled",
    )
    designer = django_filters.ModelChoiceFilter(
        field_name="contract__project__lead__designer", queryset=USERS, label="The lead's designer (user id)"
    )
    pm = ProjectManagerFilter(field_name="pm", queryset=USERS, label="The worksite's project manager (user id)")
    project = django_filters.NumberFilter(field_name="contract__project", label="Project id")
    contract = django_filters.NumberFilter(field_name="contract", label="Contract id")
    kind = django_filters.ChoiceFilter(choices=Instalment.Kind.choices, label="Only instalments of this kind")

    class Meta:
        model = Instalment
        fields = []

    def in_bucket(self, queryset, name, value):
        return queryset.filter(ledger.bucket_q(value, today=firm_today()))


class ReceivableSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    contract = serializers.IntegerField(source="contract_id")
    contract_number = serializers.CharField(source="contract.number")
    project = serializers.IntegerField(source="contract.project_id")
    project_name = serializers.CharField(source="contract.project.name")
    customer = serializers.IntegerField(source="contract.project.customer_id")
    customer_name = serializers.CharField(source="contract.project.customer.name")
    sequence = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Instalment.Kind.choices)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    due_on = serializers.DateField(allow_null=True, help_text="Null: not due yet (its trigger has not happened).")
    bucket = serializers.ChoiceField(choices=ledger.PARTS, help_text="The aging bucket as of the firm-local today.")
    days_overdue = serializers.IntegerField(help_text="Firm-local days past the due day; 0 when not overdue.")
    designer = serializers.IntegerField(source="designer.pk", allow_null=True, help_text="The lead's designer.")
    designer_name = serializers.CharField(source="designer", allow_null=True)
    project_manager = serializers.IntegerField(source="project_manager.pk", allow_null=True)
    project_manager_name = serializers.CharField(source="project_manager", allow_null=True)
    updated_at = serializers.DateTimeField(help_text="When the instalment last changed (the sync's time).")


class BucketTotalSerializer(serializers.Serializer):
    bucket = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)


class ReceivableTotalsSerializer(serializers.Serializer):
    as_of = serializers.DateField(help_text="The firm-local day the buckets are counted from.")
    buckets = BucketTotalSerializer(many=True, help_text="overdue is the four aging buckets together.")
    total = BucketTotalSerializer()


FILTERS = frozenset(ReceivableFilter.base_filters)


class ReceivableViewSet(FirmScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Outstanding instalments, newest first by id (cursor pages like every list); ``totals/`` sums the
    same selection per bucket, exact to the cent."""

    model = Instalment
    permission_group = "contracts"
    permission_classes = [ReceivablePermission]
    serializer_class = ReceivableSerializer
    filterset_class = ReceivableFilter
    action_query_parameters = {"totals": FILTERS}

    def scope_queryset(self, queryset):
        return ledger.instalments_outstanding(instalments=queryset)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        # The page's project managers in one query, and each row's bucket as of the firm's today.
        return None if page is None else attach(page, today=firm_today())

    @extend_schema(
        description="The count and amount of the outstanding instalments per bucket, and in all, for the list's "
        "filters; buckets are counted from the firm-local today (`as_of`).",
        parameters=[
            OpenApiParameter(
                name,
                str if name in ("bucket", "kind") else int,
                description=str(ReceivableFilter.base_filters[name].label or ""),
            )
            for name in sorted(FILTERS)
        ],
        responses=ReceivableTotalsSerializer,
    )
    @action(detail=False, methods=["get"])
    def totals(self, request):
        today = firm_today()
        totals = ledger.outstanding_totals(self.filter_queryset(self.get_queryset()), today=today)

        def line(bucket, label):
            return {"bucket": bucket, "label": str(label), **totals[bucket]}

        answer = {
            "as_of": today,
            "buckets": [line(bucket, label) for bucket, label in ledger.BUCKET_LABELS.items()],
            "total": line("all", _("All outstanding")),
        }
        return Response(ReceivableTotalsSerializer(answer).data)
