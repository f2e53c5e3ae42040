"""How long a staff session lives.

Two limits, both checked on every request before any view sees the user:

* idle: ``SESSION_IDLE_TIMEOUT_SECONDS`` (default 8 hours) without a request signs the session out — a
  computer left signed in at the showroom does not stay a way into the firm's customers overnight;
* absolute: ``SESSION_COOKIE_AGE`` (default 7 days) after sign-in the session ends however busy it was,
  so a stolen cookie has a bounded life.

The time of the last request is written into the session at most once a minute (``_RESOLUTION``), not on
every request as ``SESSION_SAVE_EVERY_REQUEST`` would: most page views then cost no session write, and the
idle limit is exact to within that minute.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import logout
from django.urls import Resolver404, resolve
from django.utils import timezone

STARTED = "_renocrm_session_started"
LAST_SEEN = "_renocrm_session_seen"
_RESOLUTION = 60


def start_counting(sender, request, user, **kwargs) -> None:
    """On sign-in (``user_logged_in``): both limits count from now, written with the session the sign-in
    saves anyway, so the first request after it writes nothing."""
    if hasattr(request, "session"):
        request.session[STARTED] = request.session[LAST_SEEN] = int(timezone.now().timestamp())


class SessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            self._check(request)
        return self.get_response(request)

    @staticmethod
    def _check(request) -> None:
        session = request.session
        now = int(timezone.now().timestamp())
        started, seen = session.get(STARTED), session.get(LAST_SEEN)
        if not isinstance(started, int) or not isinstance(seen, int):
            # Signed in before these limits existed: start counting now.
            session[STARTED] = session[LAST_SEEN] = now
            return
        ended = request.user.sessions_ended_at
        if ended is not None and started <= ended.timestamp():
            # Begun before the person was deactivated: it ends now, as an expired one does.
            logout(request)
            return
        if now - seen > settings.SESSION_IDLE_TIMEOUT_SECONDS or now - started > settings.SESSION_COOKIE_AGE:
            # Flushes the session and leaves an anonymous user: the view answers as to anyone signed out
            # (the sign-in page for a page, 401/403 for the API).
            logout(request)
            return
        if now - seen >= _RESOLUTION and not _passive(request):
            session[LAST_SEEN] = now


def passive(view):
    """Mark a view the page calls on its own, without the user (the notice bell's poll): its requests are not
    activity, so a page left open does not keep an idle session alive."""
    view.session_passive = True
    return view


def _passive(request) -> bool:
    # Resolved only when the time of the last request is due to be written: at most once a minute.
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return False
    return getattr(match.func, "session_passive", False)
