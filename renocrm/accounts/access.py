"""Page access from the one permission map in roles.py, which the API's FirmPermission reads as well.

A page names one permission ("audit.view"); the signed-in user's membership in the current firm decides.
Not signed in: to the login page. Signed in without a firm: the no-firm page, as a 403. Lacking the
permission: the 403 page.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.shortcuts import render

from .roles import COSTS_PERMISSION, COSTS_SCOPE


def no_firm_response(request, *, status: int = 200):
    return render(request, "accounts/no_firm.html", status=status)


def denied_response(request, permission: str):
    """None when the request may open a page needing ``permission``, else the response to send instead."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    membership = getattr(request, "membership", None)
    if membership is None:
        return no_firm_response(request, status=403)
    if not membership.has_perm(permission):
        raise PermissionDenied
    return None


def permission_required(permission: str, *, to_post: str | None = None):
    """``@permission_required("audit.view")`` on a function view. With ``to_post``, a page that everyone with
    ``permission`` may read takes a POST only from those who also have ``to_post``."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            denied = denied_response(request, permission)
            if denied is None and to_post and request.method == "POST":
                denied = denied_response(request, to_post)
            return denied or view(request, *args, **kwargs)

        return wrapped

    return decorator


class FirmPermissionMixin:
    """The class-based form: set ``permission = "leads.view"``."""

    permission: str = ""

    def dispatch(self, request, *args, **kwargs):
        if not self.permission:
            raise ImproperlyConfigured(f"{type(self).__name__} names no permission.")
        return denied_response(request, self.permission) or super().dispatch(request, *args, **kwargs)


def principal_may(request, *, permission: str, scope: str) -> bool:
    """Whether this request's principal holds ``permission`` (a signed-in staff member, by the role in the
    current firm) or ``scope`` (a partner's API key; DRF's ``request.auth`` is the authenticated key with its
    scopes, and anything less holds nothing). Works with Django's request and DRF's; asked once per request
    and permission."""
    django_request = getattr(request, "_request", request)
    cache = getattr(django_request, "_principal_may", None)
    if cache is None:
        cache = django_request._principal_may = {}
    key = (permission, scope)
    if key not in cache:
        if getattr(django_request, "api_key_presented", False):
            cache[key] = scope in (getattr(getattr(request, "auth", None), "scopes", None) or [])
        else:
            membership = getattr(django_request, "membership", None)
            cache[key] = membership is not None and membership.has_perm(permission)
    return cache[key]


def may_see_costs(request) -> bool:
    """Whether this request's principal may see cost prices: a staff member whose role has "costs.view", or
    an API key with the "costs:read" scope. Without it, cost prices are left out of pages and exports, and
    are null in API answers."""
    return principal_may(request, permission=COSTS_PERMISSION, scope=COSTS_SCOPE)
