"""Callbacks, follow-ups and department heads a person holds, for the staff page's hand-over."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from renocrm.accounts import open_work
from renocrm.accounts.roles import AGENT_ROLES, Role

from .models import Callback, CallbackSettings, FeedbackFollowUp

HEAD_ROLES = {
    "design_head": {Role.DESIGNER, Role.ADMIN},
    "construction_head": {Role.PROJECT_MANAGER, Role.ADMIN},
    "qc_head": {Role.QC, Role.ADMIN},
    "service_head": {Role.CUSTOMER_SERVICE, Role.ADMIN},
}


def register() -> None:
    open_work.register(
        "callbacks.agent",
        label=_("Open callbacks"),
        model=Callback,
        field="assigned_to",
        open=Q(status__in=Callback.ACTIVE_STATUSES),
        roles=AGENT_ROLES,
    )
    open_work.register(
        "callbacks.follow_up_owner",
        label=_("Open follow-ups of survey answers"),
        model=FeedbackFollowUp,
        field="owner",
        open=Q(status=FeedbackFollowUp.Status.OPEN),
        roles={Role.ADMIN, Role.DESIGNER, Role.PROJECT_MANAGER, Role.QC, Role.CUSTOMER_SERVICE},
    )
    for field, roles in HEAD_ROLES.items():
        open_work.register(
            f"callbacks.{field}",
            label=CallbackSettings._meta.get_field(field).verbose_name,
            model=CallbackSettings,
            field=field,
            roles=roles,
        )
