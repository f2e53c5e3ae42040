"""Two-factor sign-in before anything else.

After the password step (the ordinary login page), a signed-in session that has not entered a code is held
to a few pages:

* the user has an authenticator (or recovery codes): the code page, until a right code is entered;
* the user has none but must have one — the platform operator always, a firm admin once the firm requires
  it: the set-up page, until it is done.

Either way logging out, static files, the health checks, the homeowner portal (signed links, no account),
signed media links and the language switch stay open. The API stays open to partners' API keys; a session
that owes a code gets the API's 403 body there, so a password alone never reads data through the API.
A page asked for while a code is owed is where the user lands once it is entered.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from renocrm.api.errors import error_response

from . import selectors, session

VERIFY = "verify"
ENROL = "enrol"

OPEN_PREFIXES = ("/healthz", "/readyz", "/portal/", "/media/", "/i18n/", "/service-worker.js", "/manifest.webmanifest")
API_PREFIX = "/api/"


def step_owed(request) -> str | None:
    """VERIFY, ENROL or None: what a signed-in request must do before it may see a page."""
    user = request.user
    if not user.is_authenticated or user.is_verified():
        return None
    if session.has_device(request):
        return VERIFY
    if selectors.two_factor_required(user, getattr(request, "membership", None)):
        return ENROL
    return None


def member_signed_in(request) -> bool:
    """A member signed in to a firm with no two-factor step owed: who is shown the header's bell and search
    box (while a step is owed, anything they fetched would only be sent to that step)."""
    user = getattr(request, "user", None)
    return bool(
        user is not None
        and user.is_authenticated
        and getattr(request, "membership", None) is not None
        and step_owed(request) is None
    )


class TwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    @cached_property
    def open_paths(self) -> dict[str, frozenset[str]]:
        logout = reverse("accounts:logout")
        return {
            VERIFY: frozenset({logout, reverse("twofactor:verify")}),
            ENROL: frozenset({logout, reverse("twofactor:setup"), reverse("twofactor:recovery-codes")}),
        }

    def __call__(self, request):
        path = request.path_info
        if path.startswith((settings.STATIC_URL, *OPEN_PREFIXES)):
            return self.get_response(request)
        step = step_owed(request)
        if step is None or path in self.open_paths[step]:
            return self.get_response(request)
        if path.startswith(API_PREFIX):
            # A request that presents an API key is authenticated by the key alone, or refused (renocrm/api).
            if getattr(request, "api_key_presented", False):
                return self.get_response(request)
            return error_response(403, code="two_factor_required", message=_("Two-factor sign-in is not complete."))
        target = reverse("twofactor:verify" if step == VERIFY else "twofactor:setup")
        if request.method == "GET":
            target = f"{target}?{urlencode({'next': request.get_full_path()})}"
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(target)
        return redirect(target)
