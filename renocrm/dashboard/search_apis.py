"""``GET /api/v1/search/?q=``: the header search for the API — the same kinds, grouped, each only with the
permission (session) or the "<group>:read" scope (API key) that reads it; mobiles and addresses as the
caller may see them."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from renocrm.accounts.roles import scope_allows
from renocrm.api.models import ApiKey
from renocrm.privacy.masking import may_see_contacts
from renocrm.search import MAX_LENGTH, MIN_LENGTH, SearchTerms

from .search import search


def _may_view(request):
    if isinstance(request.auth, ApiKey):
        scopes = request.auth.scopes
        return lambda group: scope_allows(scopes, group, write=False)
    membership = request._request.membership
    return lambda group: membership.has_perm(f"{group}.view")


class SearchPermission(BasePermission):
    def has_permission(self, request, view):
        if getattr(request._request, "tenant", None) is None:
            return False
        if isinstance(request.auth, ApiKey):
            return True  # each kind is checked against the key's scopes
        membership = getattr(request._request, "membership", None)
        return membership is not None and membership.has_perm("dashboard.view")


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        min_length=MIN_LENGTH,
        max_length=MAX_LENGTH,
        trim_whitespace=True,
        help_text="A name, a mobile number (or its last four digits), an address, a contract number or a "
        "complaint number.",
    )


class HitSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    title = serializers.CharField()
    detail = serializers.CharField()
    url = serializers.CharField(help_text="The record's page, relative to the site.")


class GroupSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    results = HitSerializer(many=True, source="hits")
    more_url = serializers.CharField(allow_blank=True)


class SearchSerializer(serializers.Serializer):
    q = serializers.CharField()
    groups = GroupSerializer(many=True)


class SearchView(APIView):
    permission_classes = [SearchPermission]
    KNOWN_PARAMETERS = frozenset({"q", "format"})

    @extend_schema(
        operation_id="search",
        tags=["search"],
        summary="Search the firm's records",
        description="The header's search: customers by name or mobile number, their leads, homes by address (with "
        "`contacts:read`), contracts by number, worksites by name or homeowner, complaints by homeowner or number "
        "(`#42`), in groups of at most 8 with a link to the whole list. A key sees the kinds its `<group>:read` "
        "scopes allow. Not paginated.",
        parameters=[
            OpenApiParameter("q", str, required=True, description=SearchQuerySerializer().fields["q"].help_text)
        ],
        responses={200: SearchSerializer, 400: OpenApiResponse(description="No query, or one too short or long.")},
    )
    def get(self, request):
        unknown = sorted(set(request.query_params) - self.KNOWN_PARAMETERS)
        if unknown:
            raise serializers.ValidationError({name: [_("Unknown query parameter.")] for name in unknown})
        query = SearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        terms = SearchTerms.parse(query.validated_data["q"], full_contacts=may_see_contacts(request))
        groups = search(terms, may_view=_may_view(request))
        return Response(SearchSerializer({"q": terms.text, "groups": groups}).data)
