"""Complaints a person handles and the escalation levels they head, for the staff page's hand-over."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from renocrm.accounts import open_work
from renocrm.accounts.roles import Role

from .models import Complaint, ComplaintSettings


def register() -> None:
    open_work.register(
        "complaints.owner",
        label=_("Open complaints"),
        model=Complaint,
        field="owner",
        open=Q(status__in=Complaint.ACTIVE_STATUSES),
        roles={Role.ADMIN, Role.CUSTOMER_SERVICE, Role.PROJECT_MANAGER},
    )
    for field in ("department_head", "general_manager"):
        open_work.register(
            f"complaints.{field}",
            label=ComplaintSettings._meta.get_field(field).verbose_name,
            model=ComplaintSettings,
            field=field,
            roles={Role.ADMIN}
            if field == "general_manager"
            else {Role.ADMIN, Role.CUSTOMER_SERVICE, Role.PROJECT_MANAGER},
        )
