"""The leads a salesperson or designer holds, for the staff page's hand-over when they leave."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from renocrm.accounts import open_work
from renocrm.accounts.roles import Role

from .models import Lead


def register() -> None:
    is_open = Q(status__in=Lead.OPEN_STATUSES)
    open_work.register(
        "leads.customer_manager",
        label=_("Open leads (customer manager)"),
        model=Lead,
        field="assigned_to",
        open=is_open,
        roles={Role.SALES, Role.ADMIN},
    )
    open_work.register(
        "leads.designer",
        label=_("Open leads (designer)"),
        model=Lead,
        field="designer",
        open=is_open,
        roles={Role.DESIGNER},
    )
