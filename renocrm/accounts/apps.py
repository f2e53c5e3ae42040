from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "renocrm.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from renocrm.sessions import start_counting

        user_logged_in.connect(start_counting, dispatch_uid="renocrm.sessions.start_counting")
