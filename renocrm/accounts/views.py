from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .access import no_firm_response
from .firm_guard import firm_guard_exempt
from .firms import memberships_of, switch_firm
from .forms import EmailPasswordResetForm, FirmSwitchForm, LoginForm


class LogoutView(auth_views.LogoutView):
    @classmethod
    def as_view(cls, **initkwargs):
        return firm_guard_exempt(super().as_view(**initkwargs))


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset_form.html"
    form_class = EmailPasswordResetForm
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password-reset-done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


@firm_guard_exempt
@require_POST
@login_required
def switch_firm_view(request):
    form = FirmSwitchForm(request.POST)
    # Someone else's firm answers exactly like one that does not exist.
    if not form.is_valid() or not switch_firm(request, form.cleaned_data["tenant"]):
        raise Http404
    firm = memberships_of(request.user).get(tenant_id=form.cleaned_data["tenant"]).tenant
    messages.success(request, _("You are now working in %(firm)s.") % {"firm": firm.name})
    # Always to the dashboard: the page the user was on may show a record of the firm they just left.
    return redirect("dashboard:home")


@login_required
def no_firm(request):
    if getattr(request, "membership", None) is not None:
        return redirect("dashboard:home")
    return no_firm_response(request)
