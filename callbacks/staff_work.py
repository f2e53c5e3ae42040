"""Callbacks, follow-ups and department heads a person holds, for the staff page's hand-over."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from renocrm.accounts import open_work
from renocrm.accounts.roles import AGENT_ROLES, Role

from .models import Callback, CallbackSettings, FeedbackFollowUp
from .selectors import HEADED_ROLES

# Who may take over as a department's head: one of the department, or a firm admin.
HEAD_ROLES = {field: {role, Role.ADMIN} for field, role in HEADED_ROLES.items()}


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
