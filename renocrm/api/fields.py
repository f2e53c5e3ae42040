"""Input fields every app's API shares: a reference to the current firm's row, and to one of its staff."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from renocrm.accounts.staff import NOT_A_MEMBER, active_members

from .views import FirmRelatedField


@extend_schema_field(OpenApiTypes.INT)
class FirmIdField(FirmRelatedField):
    """An id of the current firm's row in an input serializer (typed for the schema: it has no model)."""


@extend_schema_field(OpenApiTypes.INT)
class FirmMemberField(serializers.PrimaryKeyRelatedField):
    """A user id naming one of the current firm's staff: an active member who can sign in.

    Every other id — another firm's user, a member who has left, an id nobody has — gets the same error,
    which names nobody: the answer must not tell a caller whose id it is (a firm could otherwise list
    another firm's staff by trying ids). The service checks the role the record needs; the database refuses
    a non-member whatever the application does (a key to the firm's memberships).
    """

    default_error_messages = {"does_not_exist": NOT_A_MEMBER}

    def get_queryset(self):
        return active_members()
