"""Repairs a person is assigned, for the staff page's hand-over when they leave."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from renocrm.accounts import open_work
from renocrm.accounts.roles import Role

from .models import RepairRequest


def register() -> None:
    open_work.register(
        "aftercare.repairs",
        label=_("Open repairs"),
        model=RepairRequest,
        field="assigned_to",
        open=Q(status__in=RepairRequest.OPEN_STATUSES),
        roles={Role.ADMIN, Role.CUSTOMER_SERVICE, Role.PROJECT_MANAGER},
    )
