"""A form posts into the firm it was rendered for, or not at all.

The firm of a staff request comes from the session (the firm switcher), and a person of two firms may switch
firm in one tab while a form of the other firm is open in another. Every staff form therefore carries the
firm it was rendered for (``{% firm_field %}`` beside the CSRF token; htmx requests send it as the
``X-RenoCRM-Firm`` header); a POST that names another firm than the session's is refused with a clear
message (409) before any view runs, so nothing is written. The firm is not taken from the form: it only
has to agree with the session's.
"""

from __future__ import annotations

from django.shortcuts import render

FIELD = "_firm"
HEADER = "X-RenoCRM-Firm"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def firm_guard_exempt(view):
    """For the few forms meant to cross firms (the firm switcher, signing out)."""
    view.firm_guard_exempt = True
    return view


class FirmGuardMiddleware:
    """After TenantMiddleware, which sets ``request.tenant`` and ``request.membership``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method not in UNSAFE or getattr(request, "membership", None) is None:
            return None  # API keys name their firm; the portal and sign-in pages have none
        if getattr(view_func, "firm_guard_exempt", False) or request.path.startswith("/api/"):
            return None
        claimed = request.headers.get(HEADER) or request.POST.get(FIELD)
        if claimed is None or claimed == str(request.tenant.pk):
            return None
        return render(
            request,
            "accounts/wrong_firm.html",
            {"form_firm": _firm_name(request, claimed), "session_firm": request.tenant},
            status=409,
        )


def _firm_name(request, claimed: str) -> str:
    """The name of the form's firm when it is one of the user's own, else nothing."""
    from .firms import memberships_of

    if not claimed.isdigit():
        return ""
    membership = memberships_of(request.user).filter(tenant_id=int(claimed)).first()
    return membership.tenant.name if membership else ""
