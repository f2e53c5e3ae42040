import re

from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination

BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


class IdCursorPagination(CursorPagination):
    """Newest first by id: stable under inserts, and no COUNT(*) over a firm's whole table.

    A page size or cursor that cannot be read is refused (400) rather than quietly replaced by the default
    page: a partner who asked for 500 rows and got 50 would not know."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 200

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
