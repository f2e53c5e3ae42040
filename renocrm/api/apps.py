from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_after_migrate(sender, using, **kwargs):
    # As the tenancy's sync: only the owner changes the schema, once per migrate.
    if using != "owner" or sender.label != "api":
        return
    from .sync import sync_listed_tables

    sync_listed_tables(using=using)


class ApiConfig(AppConfig):
    name = "renocrm.api"
    label = "api"
    verbose_name = _("API platform")

    def ready(self):
        from . import schema  # noqa: F401  (registers the API-key scheme with drf-spectacular)

        post_migrate.connect(_sync_after_migrate, dispatch_uid="renocrm.api.sync")
