import base64
import re
from datetime import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from renocrm.forms import check_clock_offset

BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


# The one ordering a partner may ask for: oldest change first, for a mirror's incremental sync.
SYNC_ORDERING = "updated_at"


class IdCursorPagination(CursorPagination):
    """Newest first by id: stable under inserts, and no COUNT(*) over a firm's whole table.

    Every list also reads ``updated_after`` (rows changed at or after a time) and ``ordering=updated_at``:
    oldest change first, paged by a ``(updated_at, id)`` keyset cursor, so a row changed while a mirror pages
    moves behind the cursor and is read again on a later page rather than skipped (see ``renocrm.api.sync``).

    A page size or cursor that cannot be read is refused (400) rather than quietly replaced by the default
    page: a partner who asked for 500 rows and got 50 would not know."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering_query_param = "ordering"
    updated_after_query_param = "updated_after"
    sync_position = None  # the last row's (updated_at, id) on a page of the sync ordering with more after it

    def query_parameters(self) -> set[str]:
        return {
            self.cursor_query_param,
            self.page_size_query_param,
            self.ordering_query_param,
            self.updated_after_query_param,
        }

    def paginate_queryset(self, queryset, request, view=None):
        after = self._updated_after(request)
        if after is not None:
            queryset = queryset.filter(updated_at__gte=after)
        ordering = request.query_params.get(self.ordering_query_param)
        if ordering is None:
            return super().paginate_queryset(queryset, request, view)
        if ordering != SYNC_ORDERING:
            raise ValidationError({self.ordering_query_param: [_('The one ordering offered is "updated_at".')]})
        return self._sync_page(queryset, request)

    def _updated_after(self, request) -> datetime | None:
        raw = request.query_params.get(self.updated_after_query_param)
        if raw is None:
            return None
        try:
            value = parse_datetime(raw.strip().replace(" ", "+"))  # a "+" left unencoded arrives as a space
        except ValueError:
            value = None
        if value is None or value.tzinfo is None:
            raise ValidationError(
                {
                    self.updated_after_query_param: [
                        _("Give a date and time with its offset, e.g. 2026-12-01T08:00:00+08:00.")
                    ]
                }
            )
        try:
            check_clock_offset(value)  # the database refuses an offset no clock uses
        except DjangoValidationError as error:
            raise ValidationError({self.updated_after_query_param: error.messages}) from None
        return value

    def _sync_page(self, queryset, request):
        self.request = request
        self.page_size = self.get_page_size(request)
        rows = queryset.order_by("updated_at", "id")
        position = self._decode_sync_cursor(request)
        if position is not None:
            at, pk = position
            # The first condition alone is the index's range; the second leaves out what the cursor has read.
            rows = rows.filter(Q(updated_at__gt=at) | Q(updated_at=at, id__gt=pk), updated_at__gte=at)
        page = list(rows[: self.page_size + 1])
        self.sync_position = None
        if len(page) > self.page_size:
            page = page[: self.page_size]
            self.sync_position = (page[-1].updated_at, page[-1].pk)
        return page

    def _decode_sync_cursor(self, request):
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            at, pk = base64.b64decode(encoded.encode("ascii"), validate=True).decode("ascii").split("|")
            position = parse_datetime(at), int(pk)
            if position[0] is None or position[0].tzinfo is None:
                raise ValueError(at)
            check_clock_offset(position[0])
        except (ValueError, UnicodeError, DjangoValidationError):
            raise ValidationError(
                {self.cursor_query_param: [_("This cursor is not valid; use a link from a previous page.")]}
            ) from None
        return position

    def _is_sync(self) -> bool:
        return getattr(self, "request", None) is not None and (
            self.request.query_params.get(self.ordering_query_param) == SYNC_ORDERING
        )

    def get_next_link(self):
        if not self._is_sync():
            return super().get_next_link()
        if self.sync_position is None:
            return None
        at, pk = self.sync_position
        cursor = base64.b64encode(f"{at.isoformat()}|{pk}".encode("ascii")).decode("ascii")
        return replace_query_param(self.request.build_absolute_uri(), self.cursor_query_param, cursor)

    def get_previous_link(self):
        # The sync ordering reads forward only: a mirror has no use for the page before.
        return None if self._is_sync() else super().get_previous_link()

    def get_paginated_response(self, data):
        if not self._is_sync():
            return super().get_paginated_response(data)
        return Response({"next": self.get_next_link(), "previous": None, "results": data})

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        return [
            *parameters,
            {
                "name": self.updated_after_query_param,
                "required": False,
                "in": "query",
                "description": "Only records changed at or after this time (inclusive), an ISO 8601 date-time "
                "with its offset. With ordering=updated_at, the incremental sync of a mirror: see the API guide.",
                "schema": {"type": "string", "format": "date-time"},
            },
            {
                "name": self.ordering_query_param,
                "required": False,
                "in": "query",
                "description": "updated_at: oldest change first, paged by a cursor on (updated_at, id) that a "
                "change during paging cannot make skip a record. Without it: newest first by id.",
                "schema": {"type": "string", "enum": [SYNC_ORDERING]},
            },
        ]

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        _("Give a whole number from 1 to %(max)s.") % {"max": self.max_page_size}
                    ]
                }
            )
        return int(raw)

    def decode_cursor(self, request):
        try:
            encoded = request.query_params.get(self.cursor_query_param)
            if encoded is not None and not BASE64.fullmatch(encoded):
                raise ValueError(encoded)  # DRF's decoder skips stray characters and would read a first page
            cursor = super().decode_cursor(request)
            # Every ordering here is by a whole-number column, so a position must be one.
            if cursor is not None and cursor.position is not None:
                int(cursor.position)
        except (NotFound, ValueError, UnicodeError):
            raise ValidationError(
                {self.cursor_query_param: [_("This cursor is not valid; use a link from a previous page.")]}
            ) from None
        return cursor
