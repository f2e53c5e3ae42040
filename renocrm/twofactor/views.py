"""The two-factor pages: the code asked after the password, setting up an authenticator app, recovery codes,
turning it off, and the firm admins' rule (renocrm/twofactor/middleware.py sends people here)."""

from __future__ import annotations

import logging
import math
from base64 import b32encode
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from renocrm.accounts.access import permission_required
from renocrm.forms import apply_service_errors, page_action, submit

from . import forms, lockout, selectors, services, session
from .qr import qr_svg

logger = logging.getLogger(__name__)


def _next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _posted(request):
    """The submitted data, or None for a GET (an empty POST — an unticked box alone — is still a POST)."""
    return request.POST if request.method == "POST" else None


def _check_code(request, form, *, recovery_codes: bool):
    """The device that took the code in ``form``; None with the refusal on the form; or, once axes locks the
    user out, the lockout page (the half-signed-in session is ended)."""
    user = request.user
    if lockout.is_locked(request, user):
        return _locked_out(request, user)
    result = services.two_factor_code_check(
        user=user, token=form.cleaned_data["otp_token"], recovery_codes=recovery_codes
    )
    if result.ok:
        lockout.count_success(request, user)
        return result.device
    if result.wait_until is not None:
        # Not checked at all, so not counted as a failure either.
        seconds = max(1, math.ceil((result.wait_until - timezone.now()).total_seconds()))
        form.add_error(
            "otp_token",
            ngettext(
                "Too many wrong codes. Try again in %(seconds)d second.",
                "Too many wrong codes. Try again in %(seconds)d seconds.",
                seconds,
            )
            % {"seconds": seconds},
        )
        return None
    if lockout.count_failure(request, user):
        return _locked_out(request, user)
    form.add_error(
        "otp_token",
        _("That code is not right. Enter the code your authenticator app shows now, or an unused recovery code.")
        if recovery_codes
        else services.WRONG_CODE,
    )
    return None


def _locked_out(request, user) -> HttpResponse:
    logger.warning("two-factor: user %s locked out after wrong codes", user.pk)
    logout(request)
    return lockout.lockout_response(request, user)


@never_cache
@login_required
def verify(request):
    next_url = _next_url(request)
    if session.is_verified(request) or not session.has_device_now(request):
        return redirect(next_url)
    form = forms.CodeForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        checked = _check_code(request, form, recovery_codes=True)
        if isinstance(checked, HttpResponse):
            return checked
        if checked is not None:
            session.mark_verified(request, checked)
            return redirect(next_url)
    return render(request, "twofactor/verify.html", {"form": form, "next": next_url})


@never_cache
@login_required
def setup(request):
    next_url = _next_url(request)
    if session.has_device(request):
        return redirect("twofactor:manage")
    key = request.session.get(session.PENDING_KEY) or services.authenticator_key_new()
    request.session[session.PENDING_KEY] = key
    form = forms.AuthenticatorCodeForm(_posted(request))
    enrolled = submit(
        request,
        form,
        lambda data: services.two_factor_enrol(user=request.user, key=key, token=data["otp_token"]),
    )
    if enrolled:
        device, codes = enrolled
        request.session.pop(session.PENDING_KEY, None)
        session.mark_verified(request, device)
        session.keep_new_codes(request, codes)
        messages.success(request, _("Two-factor sign-in is on."))
        return redirect(f"{reverse('twofactor:recovery-codes')}?{urlencode({'next': next_url})}")
    secret = b32encode(bytes.fromhex(key)).decode()
    context = {
        "form": form,
        "next": next_url,
        "qr": qr_svg(services.authenticator_url(user=request.user, key=key), label=_("QR code to scan")),
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "required": selectors.two_factor_required(request.user, getattr(request, "membership", None)),
    }
    return render(request, "twofactor/setup.html", context)


@never_cache
@login_required
def recovery_codes(request):
    codes = session.take_new_codes(request)
    if not codes:
        return redirect("twofactor:manage")
    context = {"codes": [services.format_recovery_code(code) for code in codes], "next": _next_url(request)}
    return render(request, "twofactor/recovery_codes.html", context)


def _manage_page(request, *, regenerate_form=None, disable_form=None, status=200):
    user = request.user
    device = selectors.authenticator(user)
    context = {
        "device": device,
        "required": selectors.two_factor_required(user, getattr(request, "membership", None)),
        "codes_left": selectors.recovery_codes_left(user) if device else 0,
        "regenerate_form": regenerate_form or forms.AuthenticatorCodeForm(auto_id="regenerate_%s"),
        "disable_form": disable_form or forms.CodeForm(auto_id="disable_%s"),
    }
    return render(request, "twofactor/manage.html", context, status=status)


@never_cache
@login_required
def manage(request):
    return _manage_page(request)


@require_POST
@login_required
def regenerate(request):
    form = forms.AuthenticatorCodeForm(request.POST, auto_id="regenerate_%s")
    if form.is_valid():
        checked = _check_code(request, form, recovery_codes=False)
        if isinstance(checked, HttpResponse):
            return checked
        if checked is not None:
            try:
                codes = services.recovery_codes_regenerate(user=request.user)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                session.keep_new_codes(request, codes)
                messages.success(request, _("New recovery codes made; the old ones no longer work."))
                return redirect("twofactor:recovery-codes")
    return _manage_page(request, regenerate_form=form, status=400)


@require_POST
@login_required
def disable(request):
    membership = getattr(request, "membership", None)
    if selectors.two_factor_required(request.user, membership):
        messages.error(request, _("Two-factor sign-in is required for your account and cannot be turned off."))
        return redirect("twofactor:manage")
    form = forms.CodeForm(request.POST, auto_id="disable_%s")
    if form.is_valid():
        checked = _check_code(request, form, recovery_codes=True)
        if isinstance(checked, HttpResponse):
            return checked
        if checked is not None:
            try:
                services.two_factor_disable(user=request.user, membership=membership)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                session.forget_devices(request)
                messages.success(request, _("Two-factor sign-in is off."))
                return redirect("twofactor:manage")
    return _manage_page(request, disable_form=form, status=400)


@permission_required("firm.manage")
def policy(request):
    firm = request.tenant
    form = forms.PolicyForm(_posted(request), initial={"require_admin_two_factor": firm.require_admin_two_factor})
    changed = submit(
        request,
        form,
        lambda data: services.firm_two_factor_policy_set(
            tenant=firm, actor=request.user, required=data["require_admin_two_factor"]
        ),
    )
    if changed is not None:
        if changed:
            messages.success(
                request,
                _("Firm admins must now sign in with two-factor sign-in.")
                if firm.require_admin_two_factor
                else _("Firm admins may now choose whether to use two-factor sign-in."),
            )
        return redirect("twofactor:policy")
    context = {
        "form": form,
        "members": selectors.firm_staff_two_factor(tenant=firm),
        "you_have_two_factor": session.has_device(request),
    }
    return render(request, "twofactor/policy.html", context, status=400 if form.errors else 200)


@require_POST
@permission_required("firm.manage")
def member_reset(request):
    form = forms.MemberResetForm(request.POST)
    return page_action(
        request,
        lambda data: services.member_two_factor_reset(tenant=request.tenant, actor=request.user, member=data["member"]),
        back=reverse("twofactor:policy"),
        form=form,
        done=_("Two-factor sign-in reset. They set it up again at their next sign-in where it is required."),
        about=_("Reset two-factor sign-in"),
    )
