"""The firm's settings pages and the public sign-up."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.cache import cache
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

from renocrm.accounts.access import permission_required
from renocrm.clientip import client_ip
from renocrm.forms import submit

from . import services
from .forms import FirmProfileForm, SignupForm
from .models import Tenant
from .settings_pages import settings_groups

logger = logging.getLogger(__name__)

# Sign-up attempts (every POST, good or bad) one address may make in SIGNUP_WINDOW seconds: enough for a
# person correcting their form several times, too few to create firms in bulk or to probe which numbers and
# e-mail addresses have accounts.
SIGNUP_ATTEMPTS = 10
SIGNUP_WINDOW = 3600


@permission_required("firm.view")
def settings_home(request):
    return render(request, "tenancy/settings_home.html", {"groups": settings_groups(request.membership)})


@permission_required("firm.view", to_post="firm.manage")
def firm_profile(request):
    may_manage = request.membership.has_perm("firm.manage")
    form = FirmProfileForm(
        request.POST or None, request.FILES or None, instance=request.tenant, read_only=not may_manage
    )

    def save(data):
        values = {name: data[name] for name in services.PROFILE_FIELDS}
        return services.firm_profile_update(
            tenant=request.tenant, logo=data.get("logo"), remove_logo=data.get("remove_logo", False), **values
        )

    if submit(request, form, save, check=lambda data: services.firm_profile_check(**data)):
        messages.success(request, _("The firm's profile is saved."))
        return redirect("tenancy:firm-profile")
    context = {"form": form, "firm": request.tenant, "may_manage": may_manage}
    return render(request, "tenancy/firm_profile.html", context, status=400 if form.is_bound else 200)


def signup(request):
    """A new firm signs up: on trial at once and its admin signed in, or waiting for the operator's approval
    (``FIRM_SIGNUP``). Not for someone already signed in."""
    if settings.FIRM_SIGNUP == "closed":
        return render(request, "tenancy/signup_closed.html", status=404)
    if request.user.is_authenticated:
        return redirect("dashboard:home")
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        if _too_many_attempts(request):
            form.is_valid()  # the entered values are shown again
            form.add_error(None, _("Too many sign-up attempts from your network. Please try again in an hour."))
            return render(request, "tenancy/signup.html", {"form": form}, status=429)
        if form.is_bot():
            logger.warning("sign-up refused: the hidden field was filled in (address %s)", client_ip(request))
            messages.error(request, _("The sign-up could not be completed. Please try again."))
            return render(request, "tenancy/signup.html", {"form": SignupForm()}, status=400)
    created = submit(
        request,
        form,
        lambda data: services.firm_sign_up(
            firm_name=data["firm_name"],
            admin_name=data["admin_name"],
            mobile=data["mobile"],
            email=data["email"],
            password=data["password"],
            language=translation.get_language() or "",
        ),
        check=lambda data: services.firm_sign_up_check(
            **{k: v for k, v in data.items() if k in services.SIGN_UP_FIELDS}
        ),
    )
    if not created:
        return render(request, "tenancy/signup.html", {"form": form}, status=400 if form.is_bound else 200)
    tenant, user = created
    if tenant.status == Tenant.Status.PENDING:
        return render(request, "tenancy/signup_pending.html", {"firm": tenant, "admin": user})
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, _("Welcome! %(firm)s is ready for its trial.") % {"firm": tenant.name})
    return redirect("dashboard:home")


def _too_many_attempts(request) -> bool:
    """Count this attempt against the address; True once it is over the limit. With Redis unreachable the
    attempt goes through (the other guards still stand) rather than sign-up failing."""
    key = f"firm-signup:{client_ip(request) or 'unknown'}"
    try:
        cache.add(key, 0, timeout=SIGNUP_WINDOW)
        return cache.incr(key) > SIGNUP_ATTEMPTS
    except (RedisError, ValueError):
        return False
