"""The worksites a person is named on, for the staff page's hand-over when they leave."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from renocrm.accounts import open_work
from renocrm.accounts.roles import AGENT_ROLES, Role

from .models import Worksite


def register() -> None:
    unfinished = ~Q(status=Worksite.Status.HANDED_OVER)
    for field, label, roles in (
        ("designer", _("Worksites under construction (designer)"), {Role.DESIGNER}),
        ("project_manager", _("Worksites under construction (project manager)"), {Role.PROJECT_MANAGER}),
        ("qc_inspector", _("Worksites under construction (QC inspector)"), {Role.QC}),
    ):
        open_work.register(f"worksites.{field}", label=label, model=Worksite, field=field, open=unfinished, roles=roles)
    # A handed-over worksite's aftercare and callbacks still go to its agent, for as long as the warranty runs.
    open_work.register(
        "worksites.customer_service",
        label=_("Worksites in their care (customer-service agent)"),
        model=Worksite,
        field="customer_service",
        roles=AGENT_ROLES,
    )
