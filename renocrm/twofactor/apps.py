from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TwoFactorConfig(AppConfig):
    name = "renocrm.twofactor"
    label = "twofactor"
    verbose_name = _("Two-factor sign-in")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .session import signed_in

        user_logged_in.connect(signed_in, dispatch_uid="renocrm.twofactor.session.signed_in")
