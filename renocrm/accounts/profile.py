"""A signed-in person's own profile: their name, phone and page language.

The language chosen here (``User.language``) is the one every staff page speaks to them in, whichever firm
they work in; left blank, each firm's own language (renocrm/language.py). The language buttons in the page
header post here too, so switching there is remembered the same way.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from renocrm.accounts.firm_guard import firm_guard_exempt
from renocrm.language import request_language

from .calendar_feeds import calendar_feed_active
from .models import User


def language_choices(firm) -> list[tuple[str, str]]:
    """Each language in its own name, so anyone finds theirs whatever the page speaks; blank: the firm's."""
    own = [(code, translation.get_language_info(code)["name_local"]) for code, _name in settings.LANGUAGES]
    if firm is None:
        blank = _("The firm's language")
    else:
        blank = _("The firm's language (%(language)s)") % {"language": dict(own).get(firm.language, firm.language)}
    return [("", blank), *own]


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["name", "phone", "language"]
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "name"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
        }
        help_texts = {
            "language": gettext_lazy("The language of every page for you. Left as the firm's, pages follow the firm.")
        }

    def __init__(self, *args, firm=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = language_choices(firm)


class LanguageSwitchForm(forms.Form):
    """The header's language buttons: one language and the page to go back to."""

    language = forms.ChoiceField(choices=settings.LANGUAGES)
    next = forms.CharField(required=False)


@transaction.atomic
def user_profile_update(*, user: User, name: str, phone: str, language: str) -> User:
    user.name, user.phone, user.language = name.strip(), phone.strip(), language
    user.save(update_fields=["name", "phone", "language"])
    return user


@transaction.atomic
def user_language_set(*, user: User, language: str) -> User:
    user.language = language
    user.save(update_fields=["language"])
    return user


def _speak_as_saved(request) -> None:
    """The message after saving is read on the next page, which speaks the language just chosen."""
    language = request_language(request)
    if language:
        translation.activate(language)
        request.LANGUAGE_CODE = language


def _safe_next(request, target: str) -> str:
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


# The person's own settings, the same in every firm: no firm to agree with.
@firm_guard_exempt
@login_required
def profile_edit(request):
    firm = getattr(request, "tenant", None)
    if request.method == "POST" and "next" in request.POST:
        switch = LanguageSwitchForm(request.POST)
        if switch.is_valid():
            user_language_set(user=request.user, language=switch.cleaned_data["language"])
            _speak_as_saved(request)
        return redirect(_safe_next(request, switch.data.get("next", "")) or "accounts:profile")
    form = ProfileForm(request.POST or None, instance=request.user, firm=firm)
    if request.method == "POST" and form.is_valid():
        user_profile_update(user=request.user, **form.cleaned_data)
        _speak_as_saved(request)
        messages.success(request, _("Your profile is saved."))
        return redirect("accounts:profile")
    # The calendar address is one per firm: shown for the firm the person is working in.
    membership = getattr(request, "membership", None)
    feed = calendar_feed_active(user=request.user) if membership is not None else None
    context = {"form": form, "firm": firm, "calendar_feed": feed, "may_have_feed": membership is not None}
    return render(request, "accounts/profile.html", context)
