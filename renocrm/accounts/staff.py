"""The firm's staff as lifecycle apps pick them: choices for a form, and the check a service makes."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from renocrm.tenancy.context import require_current_tenant

from .models import Membership
from .roles import Role

ALL_ROLES = frozenset(Role)


def staff_choices(*, roles):
    """Active users with an active membership of the current firm in one of ``roles``."""
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            memberships__tenant=require_current_tenant(),
            memberships__is_active=True,
            memberships__role__in=roles,
        )
        .order_by("name", "username")
    )


def firm_admins():
    """The firm's active admins, earliest account first (who answers when nobody else is named)."""
    return staff_choices(roles={Role.ADMIN}).order_by("pk")


def require_staff_role(user, *, roles=ALL_ROLES, field: str) -> None:
    """Refuse (as an error on ``field``) a user who is not an active member of the current firm in one of
    ``roles`` (any role by default) or who can no longer sign in; None passes (nobody assigned)."""
    if user is None:
        return
    tenant = require_current_tenant()
    member = Membership.objects.filter(user=user, tenant=tenant, is_active=True, role__in=roles).exists()
    if not (member and user.is_active):
        raise ValidationError({field: _("%(user)s is not a member of this firm in a fitting role.") % {"user": user}})
