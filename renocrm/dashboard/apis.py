"""``GET /api/v1/agenda/``: a staff member's agenda (or their team's) over a range of days, for the signed-in
session of the dashboard. An agenda is a person's: a partner's API key names a firm and no person, so it is
refused with 403 whatever its scopes."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from renocrm.api.errors import refuse_unknown_parameters
from renocrm.api.permissions import MemberPermission
from renocrm.tenancy.context import require_current_tenant
from renocrm.tenancy.time import firm_today

from .agenda import FIRST_DAY, LAST_DAY, MAX_DAYS, TEAM, UnknownMember, gather, resolve_scope

# The days a request without a range gets: today and the six after it.
DEFAULT_DAYS = 7


class AgendaPermission(MemberPermission):
    permission = "dashboard.view"
    message = gettext_lazy("The agenda is a staff member's own: it is read signed in, not with an API key.")


class AgendaQuerySerializer(serializers.Serializer):
    start = serializers.DateField(required=False, help_text="First day (firm-local); default today.")
    end = serializers.DateField(required=False, help_text="Last day, inclusive; default six days after start.")
    user = serializers.CharField(
        required=False,
        max_length=20,
        help_text="Whose agenda: `me` (default), `team` (everyone for a firm admin, the department for its "
        "head) or a member's user id (firm admins and department heads).",
    )

    def _within_calendar(self, value):
        if not FIRST_DAY <= value <= LAST_DAY:
            raise serializers.ValidationError(
                _("Choose a day from %(first)s to %(last)s.") % {"first": FIRST_DAY, "last": LAST_DAY}
            )
        return value

    validate_start = validate_end = _within_calendar

    def validate(self, data):
        start = data.get("start") or firm_today()
        end = data.get("end") or start + timedelta(days=DEFAULT_DAYS - 1)
        if end < start:
            raise serializers.ValidationError({"end": [_("The last day comes before the first.")]})
        if (end - start).days + 1 > MAX_DAYS:
            raise serializers.ValidationError({"end": [_("At most %(days)s days at a time.") % {"days": MAX_DAYS}]})
        return {**data, "start": start, "end": end}


class AgendaItemSerializer(serializers.Serializer):
    uid = serializers.CharField(help_text="Stable while the record lives, e.g. `measurement-12`.")
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    day = serializers.DateField(help_text="The firm-local day.")
    all_day = serializers.BooleanField()
    start = serializers.DateTimeField(allow_null=True, help_text="Null for a whole-day item.")
    end = serializers.DateTimeField(allow_null=True)
    title = serializers.CharField()
    place = serializers.CharField(allow_blank=True, help_text="The property's address (masked without contacts).")
    url = serializers.URLField(help_text="The item's page.")
    people = serializers.ListField(child=serializers.CharField(), help_text="The staff it is for.")


class AgendaSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    time_zone = serializers.CharField()
    user = serializers.IntegerField(allow_null=True, help_text="The member whose agenda it is; null: a team's.")
    items = AgendaItemSerializer(many=True)


def _item(item) -> dict:
    return {
        "uid": item.uid,
        "kind": item.kind,
        "kind_label": item.kind_label,
        "day": item.day,
        "all_day": item.all_day,
        "start": item.at,
        "end": item.at + timedelta(minutes=item.minutes) if item.at else None,
        "title": item.title,
        "place": item.place,
        "url": f"{settings.SITE_URL}{item.path}",
        "people": list(item.people),
    }


class AgendaView(APIView):
    permission_classes = [AgendaPermission]
    KNOWN_PARAMETERS = frozenset({"start", "end", "user", "format"})

    @extend_schema(
        operation_id="agenda_list",
        tags=["agenda"],
        parameters=[
            OpenApiParameter("start", str, description="First day, YYYY-MM-DD (firm-local); default today."),
            OpenApiParameter("end", str, description="Last day, inclusive; at most 31 days after start."),
            OpenApiParameter("user", str, description="`me` (default), `team`, or a member's user id."),
        ],
        responses={
            200: AgendaSerializer,
            400: OpenApiResponse(description="A parameter that is not valid or not known."),
            403: OpenApiResponse(description="An API key, or a member who may not see that person's agenda."),
        },
    )
    def get(self, request):
        refuse_unknown_parameters(request, self.KNOWN_PARAMETERS)
        query = AgendaQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        membership = request._request.membership
        try:
            scope = resolve_scope(membership, query.validated_data.get("user", ""))
        except UnknownMember:
            raise serializers.ValidationError(
                {"user": [_("Not one of the members whose agenda you may see.")]}
            ) from None
        start, end = query.validated_data["start"], query.validated_data["end"]
        items = gather(membership=membership, staff=scope.staff, start=start, end=end)
        answer = {
            "start": start,
            "end": end,
            "time_zone": require_current_tenant().time_zone,
            "user": None if scope.choice == TEAM else scope.staff[0],
            "items": [_item(item) for item in items],
        }
        return Response(AgendaSerializer(answer).data)
