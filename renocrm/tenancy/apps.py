from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_after_migrate(sender, using, **kwargs):
    # Only the owner may change the schema; a test flush on the app connection also emits post_migrate.
    if using != "owner" or sender.label != "tenancy":
        return
    from .db import sync_tenant_tables

    sync_tenant_tables(using=using)


class TenancyConfig(AppConfig):
    name = "renocrm.tenancy"
    label = "tenancy"
    verbose_name = _("Tenancy")

    def ready(self):
        from . import checks  # noqa: F401

        post_migrate.connect(_sync_after_migrate, dispatch_uid="renocrm.tenancy.sync")
