"""The language a page is answered in.

``LocaleMiddleware`` (near the top of ``MIDDLEWARE``) chooses from the language cookie and the browser's
Accept-Language, which is right before anyone has signed in: the login, sign-up and password-reset pages.
Once the firm is known, ``StaffLanguageMiddleware`` (right after ``TenantMiddleware``) replaces that choice:
a staff page speaks the user's own language (``User.language``, set on the profile page) or else the firm's
(``Tenant.language``), whatever the browser on the office computer asks for. The homeowner portal keeps its
own rule (``?lang=``, then its cookie, then the firm's language: ``worksites.views.portal.portal_language``),
and the partner API answers in English unless its Accept-Language asks for a language the product speaks
(``api_language``): an integrator's client gets one language whichever firm its key belongs to.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header

PORTAL_PREFIX = "/portal/"
API_PREFIX = "/api/"
API_DEFAULT_LANGUAGE = "en"


def language_codes() -> dict[str, str]:
    return dict(settings.LANGUAGES)


def api_language(accept_language: str) -> str:
    """The API's language: the first in ``accept_language`` (by preference) the product speaks — ``zh``,
    ``zh-CN`` or ``zh-Hans`` is Simplified Chinese — else English."""
    for code, _quality in parse_accept_lang_header(accept_language or ""):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return API_DEFAULT_LANGUAGE


def request_language(request) -> str | None:
    """The language the request is answered in, or None to keep the one ``LocaleMiddleware`` chose."""
    path = request.path_info
    if path.startswith(PORTAL_PREFIX):
        return None
    if path.startswith(API_PREFIX):
        return None  # ApiLanguageMiddleware chose it, before any refusal of the key
    codes = language_codes()
    # The session resolver (renocrm.accounts.firms) sets ``membership`` once it has loaded the signed-in user;
    # a request it did not look at is a partner's API key, which has no user of its own.
    if hasattr(request, "membership"):
        user = request.user
        if user.is_authenticated and user.language in codes:
            return user.language
    firm = getattr(request, "tenant", None)
    if firm is not None and firm.language in codes:
        return firm.language
    return None


class StaffLanguageMiddleware:
    """Activates the user's or the firm's language for the rest of the request (see the module's docstring).

    It activates rather than overrides, as ``LocaleMiddleware`` does, so a streamed download made after the
    view returns is still in the page's language; the next request activates its own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = request_language(request)
        if language is None:
            return self.get_response(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        # LocaleMiddleware only fills Content-Language in when it is missing; Vary: Accept-Language it adds
        # stays true for the pages before sign-in and the API.
        response.headers["Content-Language"] = request.LANGUAGE_CODE
        return response


class ApiLanguageMiddleware:
    """Right after ``LocaleMiddleware``: an API request speaks ``api_language`` from the start, so a refusal
    made before the firm is known (a bad key's 401) is in that language too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        translation.activate(api_language(request.META.get("HTTP_ACCEPT_LANGUAGE", "")))
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers["Content-Language"] = request.LANGUAGE_CODE
        return response
