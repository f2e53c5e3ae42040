from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutboxConfig(AppConfig):
    name = "renocrm.outbox"
    label = "outbox"
    verbose_name = _("Events and notifications")

    def ready(self):
        from .wecom import register_robot_handlers

        # The firm's WeCom group robots hear of new leads, overdue callbacks, escalated complaints and lifted
        # construction gates through the outbox events that report them.
        register_robot_handlers()
