"""``GET /api/v1/deletions/``: what a partner's mirror must drop — each record of a list endpoint deleted or
erased, as its type (the list's name), id and time; only the types the caller may read."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import BasePermission

from renocrm.accounts.roles import scope_allows

from .models import ApiKey, Deletion
from .sync import listed_resources
from .views import FirmScopedMixin


def readable_resources(request) -> list[str]:
    """The list endpoints whose records the request's principal may read (a key by its "<group>:read" scopes,
    a staff member by the groups' view permissions). Worked out once per request: the permission asks, then the
    list's queryset."""
    cached = getattr(request._request, "_readable_resources", None)
    if cached is not None:
        return cached
    if isinstance(request.auth, ApiKey):
        scopes = request.auth.scopes

        def may(group):
            return scope_allows(scopes, group, write=False)

    else:
        membership = request._request.membership

        def may(group):
            return membership.has_perm(f"{group}.view")

    readable = sorted(name for name, resource in listed_resources().items() if may(resource.permission_group))
    request._request._readable_resources = readable
    return readable


class DeletionPermission(BasePermission):
    """Anyone who reads some list of the firm: the feed shows them the deletions of those lists only."""

    def has_permission(self, request, view):
        if getattr(request._request, "tenant", None) is None:
            return False
        if not isinstance(request.auth, ApiKey) and getattr(request._request, "membership", None) is None:
            return False
        return bool(readable_resources(request))


class DeletionSerializer(serializers.ModelSerializer):
    type = serializers.CharField(source="resource", help_text=_("The list the record was in, e.g. leads."))
    id = serializers.IntegerField(source="object_id", help_text=_("The record's id in that list."))
    deleted_at = serializers.DateTimeField(
        source="updated_at", help_text=_("When it was deleted or erased: what updated_after reads here.")
    )

    class Meta:
        model = Deletion
        fields = ["type", "id", "reason", "deleted_at"]


class DeletionFilter(django_filters.FilterSet):
    type = django_filters.CharFilter(field_name="resource", label=_("Only this list's deletions, e.g. leads."))

    class Meta:
        model = Deletion
        fields = ["type"]


@extend_schema_view(
    list=extend_schema(
        summary="List deletions",
        description="Records gone from the lists — deleted, or erased on a person's request (their records stay "
        "as anonymous rows for the firm's figures, but leave every mirror) — as the list's name, the id and the "
        "time, nothing of what they held; only of the lists the key's scopes read. Read it as a mirror reads any "
        "list: updated_after and ordering=updated_at (a deletion's updated_at is its deleted_at).",
    )
)
class DeletionViewSet(FirmScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Read like every list: ``updated_after`` and ``ordering=updated_at`` for a mirror's sync."""

    model = Deletion
    permission_classes = [DeletionPermission]
    serializer_class = DeletionSerializer
    filterset_class = DeletionFilter

    def scope_queryset(self, queryset):
        return queryset.filter(resource__in=readable_resources(self.request))
