"""The notice settings page's forms. Credentials and a robot's URL are inputs only: never filled in from what
is saved."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import NoticeSettings, WecomRobot
from .sms_messages import FIRM_MESSAGES, format_param_map, parse_param_map

SECRET = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})


def _field_name(key: str, part: str) -> str:
    return f"{key.replace('.', '__')}__{part}"


class NoticeSettingsForm(forms.Form):
    provider = forms.ChoiceField(label=_("SMS provider"), choices=NoticeSettings.Provider.choices, required=False)
    sign_name = forms.CharField(
        label=_("SMS signature"),
        max_length=30,
        required=False,
        help_text=_(
            "With your own AccessKey only: your signature (签名) as the provider approved it in that account, "
            "without 【】."
        ),
    )
    app_id = forms.CharField(
        label=_("SMS application ID"),
        max_length=40,
        required=False,
        help_text=_("Tencent Cloud only: the SmsSdkAppId of the application your signature and templates belong to."),
    )
    access_key_id = forms.CharField(
        label=_("AccessKey ID"),
        max_length=128,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    access_key_secret = forms.CharField(label=_("AccessKey secret"), max_length=256, required=False, widget=SECRET)
    clear_credentials = forms.BooleanField(label=_("Forget the saved access key"), required=False)

    def __init__(self, *args, saved: NoticeSettings, masked_key: str = "", **kwargs):
        initial = {"provider": saved.provider, "sign_name": saved.sign_name, "app_id": saved.app_id}
        for key, mapping in (saved.templates or {}).items():
            initial[_field_name(key, "code")] = mapping.get("code", "")
            initial[_field_name(key, "params")] = format_param_map(mapping.get("params") or {})
        super().__init__(*args, initial=initial, **kwargs)
        if masked_key:
            self.fields["access_key_id"].help_text = _("Saved: %(key)s. Leave both empty to keep it.") % {
                "key": masked_key
            }
        else:
            self.fields["access_key_id"].help_text = _(
                "Only to send through your own account; empty: the installation's account."
            )
        self.service_fields = {}
        for kind in FIRM_MESSAGES:
            code, params = _field_name(kind.key, "code"), _field_name(kind.key, "params")
            self.fields[code] = forms.CharField(label=_("Template code"), max_length=40, required=False)
            self.fields[params] = forms.CharField(
                label=_("Template parameters"),
                max_length=500,
                required=False,
                widget=forms.TextInput(attrs={"placeholder": "name=customer_name, link=survey_link"}),
            )
            self.service_fields[f"templates.{kind.key}"] = code

    def settings_fields(self):
        names = ("provider", "sign_name", "app_id", "access_key_id", "access_key_secret", "clear_credentials")
        return [self[name] for name in names]

    def template_rows(self):
        """(message, code field, parameters field) for each message, in the list's order."""
        return [
            (kind, self[_field_name(kind.key, "code")], self[_field_name(kind.key, "params")]) for kind in FIRM_MESSAGES
        ]

    def clean(self):
        data = super().clean()
        templates = {}
        for kind in FIRM_MESSAGES:
            code, params = _field_name(kind.key, "code"), _field_name(kind.key, "params")
            try:
                mapping = parse_param_map(data.get(params, ""))
            except ValidationError as error:
                self.add_error(params, error)
                continue
            templates[kind.key] = {"code": data.get(code, ""), "params": mapping}
        data["templates"] = templates
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        texts = ("provider", "sign_name", "app_id", "access_key_id", "access_key_secret")
        return {
            **{name: data.get(name) or "" for name in texts},
            "clear_credentials": bool(data.get("clear_credentials")),
            "templates": data["templates"],
        }


class WecomRobotForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60, help_text=_("e.g. Sales team, Service team."))
    webhook_url = forms.CharField(
        label=_("Webhook URL"),
        max_length=300,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "https://qyapi.weixin.qq.com/…"}),
        help_text=_("In the WeCom group: Group robots → Add → copy the webhook address."),
    )
    kinds = forms.MultipleChoiceField(
        label=_("Posts"),
        choices=WecomRobot.Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    message_format = forms.ChoiceField(
        label=_("Message format"), choices=WecomRobot.Format.choices, initial=WecomRobot.Format.MARKDOWN
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, robot: WecomRobot | None = None, masked_url: str = "", **kwargs):
        if robot is not None:
            kwargs["initial"] = {
                "name": robot.name,
                "kinds": robot.kinds,
                "message_format": robot.message_format,
                "is_active": robot.is_active,
            }
        super().__init__(*args, **kwargs)
        if robot is not None:
            # The saved URL holds the robot's key: it is not sent back; a new one replaces it.
            self.fields["webhook_url"].required = False
            self.fields["webhook_url"].help_text = _("Saved: %(url)s. Leave empty to keep it.") % {"url": masked_url}
