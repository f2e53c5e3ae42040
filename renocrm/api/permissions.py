from rest_framework.permissions import SAFE_METHODS, BasePermission

from renocrm.accounts.roles import scope_allows

from .models import ApiKey


class FirmPermission(BasePermission):
    """Every API view names its ``permission_group``; reading needs "<group>.view" for a session user or
    the "<group>:read" scope for a key, writing "<group>.manage" or "<group>:write". No group, no access."""

    def has_permission(self, request, view):
        group = getattr(view, "permission_group", None)
        if group is None or getattr(request._request, "tenant", None) is None:
            return False
        write = request.method not in SAFE_METHODS
        if isinstance(request.auth, ApiKey):
            return scope_allows(request.auth.scopes, group, write=write)
        membership = getattr(request._request, "membership", None)
        return membership is not None and membership.has_perm(f"{group}.{'manage' if write else 'view'}")
