"""Signed-in staff for the load generator: a session made in the bench process, as a login would make it
(the password check and django-axes are the login page's cost, not the pages' under test)."""

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore

from renocrm.accounts.firms import SESSION_KEY as FIRM_KEY


def session_cookie(username: str, tenant_id: int) -> tuple[str, str]:
    """(cookie name, session key) of a new session of ``username`` working in firm ``tenant_id``."""
    user = get_user_model()._default_manager.get_by_natural_key(username)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[FIRM_KEY] = tenant_id
    session.create()
    return settings.SESSION_COOKIE_NAME, session.session_key


def cookie_header(username: str, tenant_id: int) -> dict[str, str]:
    name, key = session_cookie(username, tenant_id)
    return {"Cookie": f"{name}={key}"}
