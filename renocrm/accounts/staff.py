"""The firm's staff as lifecycle apps pick them: choices for a form, and the check a service makes.

A record names a staff member only among the current firm's active members. Anyone else — another firm's
user, a member who has left, an id nobody has — is refused with one message that names nobody, so the
refusal never tells who the id belongs to. The database holds the same line: a firm table's column naming a
user has a key to the firm's memberships (``renocrm.tenancy.db``).
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from renocrm.tenancy.context import require_current_tenant
from renocrm.tenancy.models import CurrentTenantId

from .models import Membership
from .roles import Role

ALL_ROLES = frozenset(Role)

NOT_A_MEMBER = _("Not a member of this firm.")
ROLE_DOES_NOT_FIT = _("Their role in this firm does not fit.")


def active_members(*, roles=ALL_ROLES, tenant=None):
    """Users who can sign in and hold an active membership of ``tenant`` in one of ``roles``. Without a
    tenant, the current firm's, read when the query runs: the queryset may be built before there is one."""
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            memberships__tenant_id=CurrentTenantId() if tenant is None else tenant.pk,
            memberships__is_active=True,
            memberships__roles__overlap=[str(role) for role in roles],
        )
        .order_by("name", "username")
    )


def staff_choices(*, roles):
    """Active users with an active membership of the current firm (now) in one of ``roles``."""
    return active_members(roles=roles, tenant=require_current_tenant())


def firm_admins():
    """The firm's active admins, earliest account first (who answers when nobody else is named)."""
    return staff_choices(roles={Role.ADMIN}).order_by("pk")


def _active_membership(user, *, field: str) -> Membership:
    """``user``'s active membership of the current firm (its firm attached), or the refusal on ``field`` that
    names nobody: not a member, left, or can no longer sign in."""
    tenant = require_current_tenant()
    members = Membership.objects.filter(user=user, tenant=tenant, is_active=True)
    membership = members.only("roles", "is_active", "tenant").first()
    if membership is None or not user.is_active:
        raise ValidationError({field: NOT_A_MEMBER})
    membership.tenant = tenant
    return membership


def require_staff_role(user, *, roles=ALL_ROLES, field: str) -> None:
    """Refuse (as an error on ``field``) a user who is not an active member of the current firm in one of
    ``roles`` (any role by default) or who can no longer sign in; None passes (nobody assigned). The error
    names nobody: a non-member's name is not the firm's to read."""
    if user is None:
        return
    if not _active_membership(user, field=field).has_role(*roles):
        raise ValidationError({field: ROLE_DOES_NOT_FIT})


def require_staff_duty(user, *, duty: str, field: str) -> None:
    """Refuse (as an error on ``field``) a user who is not an active member of the current firm holding
    ``duty`` under its duty map, or who can no longer sign in. Unlike ``require_staff_role``, None is refused:
    a duty is somebody's."""
    if user is None:
        raise ValidationError({field: NOT_A_MEMBER})
    if not _active_membership(user, field=field).has_perm(duty):
        raise ValidationError({field: ROLE_DOES_NOT_FIT})
