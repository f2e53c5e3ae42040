from rest_framework.permissions import SAFE_METHODS, BasePermission

from renocrm.accounts.roles import scope_allows

from .models import ApiKey


class FirmPermission(BasePermission):
    """Every API view names its ``permission_group``; reading needs "<group>.view" for a session user or
    the "<group>:read" scope for a key, writing "<group>.manage" or "<group>:write". No group, no access.
    A subclass may name the one ``session_permission`` a signed-in member needs instead (keys keep the
    group's scopes)."""

    session_permission: str | None = None

    def has_permission(self, request, view):
        group = getattr(view, "permission_group", None)
        if group is None or getattr(request._request, "tenant", None) is None:
            return False
        write = request.method not in SAFE_METHODS
        if isinstance(request.auth, ApiKey):
            return scope_allows(request.auth.scopes, group, write=write)
        membership = getattr(request._request, "membership", None)
        permission = self.session_permission or f"{group}.{'manage' if write else 'view'}"
        return membership is not None and membership.has_perm(permission)


class MemberPermission(BasePermission):
    """A signed-in member of the request's firm with ``permission``, for what is a person's own (their agenda,
    their notices): a partner's API key speaks for no person, so it is refused (403) whatever its scopes.
    Subclasses set ``permission`` and a ``message`` saying why a key is refused."""

    permission: str = ""

    def has_permission(self, request, view):
        if getattr(request._request, "tenant", None) is None or isinstance(request.auth, ApiKey):
            return False
        membership = getattr(request._request, "membership", None)
        return membership is not None and bool(self.permission) and membership.has_perm(self.permission)
