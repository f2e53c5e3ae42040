"""Roles and what each may do: the one place permissions are decided, for pages and the API alike."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Firm admin / general manager")
    SALES = "sales", _("Customer manager")
    DESIGNER = "designer", _("Designer")
    PROJECT_MANAGER = "project_manager", _("Project manager / foreman")
    QC = "qc", _("QC inspector")
    CUSTOMER_SERVICE = "customer_service", _("Customer service agent")
    FINANCE = "finance", _("Finance")


# Resource groups: each page and API route belongs to one. Sessions check "<group>.view" for reading and
# "<group>.manage" for writing; API keys carry scopes "<group>:read" and "<group>:write".
GROUPS = (
    "leads",
    "contracts",
    "worksites",
    "aftercare",
    "callbacks",
    "complaints",
    "reports",
    "audit",
    "firm",
    "integrations",
)

_ALL = frozenset(Role)
R = Role
PERMISSIONS: dict[str, frozenset[Role]] = {
    "dashboard.view": _ALL,
    "leads.view": frozenset({R.ADMIN, R.SALES, R.DESIGNER, R.CUSTOMER_SERVICE}),
    "leads.manage": frozenset({R.ADMIN, R.SALES, R.DESIGNER}),
    "contracts.view": frozenset({R.ADMIN, R.SALES, R.DESIGNER, R.FINANCE, R.PROJECT_MANAGER}),
    "contracts.manage": frozenset({R.ADMIN, R.SALES, R.DESIGNER, R.FINANCE}),
    # Recording a payment as received: finance's work, not that of whoever sold or designed the job. Seeing
    # payments is contracts.view.
    "payments.manage": frozenset({R.ADMIN, R.FINANCE}),
    # The receivables (aging of what is owed) and the payment register, firm-wide: finance's view of the money.
    "receivables.view": frozenset({R.ADMIN, R.FINANCE}),
    "worksites.view": _ALL,
    "worksites.manage": frozenset({R.ADMIN, R.DESIGNER, R.PROJECT_MANAGER, R.QC}),
    "aftercare.view": frozenset({R.ADMIN, R.CUSTOMER_SERVICE, R.PROJECT_MANAGER, R.DESIGNER}),
    "aftercare.manage": frozenset({R.ADMIN, R.CUSTOMER_SERVICE, R.PROJECT_MANAGER}),
    "callbacks.view": frozenset({R.ADMIN, R.CUSTOMER_SERVICE, R.DESIGNER, R.PROJECT_MANAGER}),
    "callbacks.manage": frozenset({R.ADMIN, R.CUSTOMER_SERVICE}),
    "complaints.view": frozenset({R.ADMIN, R.CUSTOMER_SERVICE, R.PROJECT_MANAGER}),
    "complaints.manage": frozenset({R.ADMIN, R.CUSTOMER_SERVICE, R.PROJECT_MANAGER}),
    "reports.view": frozenset({R.ADMIN, R.CUSTOMER_SERVICE, R.FINANCE}),
    "reports.manage": frozenset({R.ADMIN}),
    "audit.view": frozenset({R.ADMIN}),
    "audit.manage": frozenset(),
    "firm.view": frozenset({R.ADMIN}),
    "firm.manage": frozenset({R.ADMIN}),
    "integrations.view": frozenset({R.ADMIN}),
    "integrations.manage": frozenset({R.ADMIN}),
    # Unmasked mobile numbers and addresses.
    "contacts.view": frozenset({R.ADMIN, R.SALES, R.DESIGNER, R.PROJECT_MANAGER, R.CUSTOMER_SERVICE}),
    # The firm's item library and packages (prices everyone quoting relies on): reading them is contracts.view.
    "library.manage": frozenset({R.ADMIN}),
    # Cost prices and margins: without it they are left out of pages, exports and API answers.
    "costs.view": frozenset({R.ADMIN, R.FINANCE}),
    # Approving a quotation discount above the firm's threshold (never on a version one wrote or priced).
    "discounts.approve": frozenset({R.ADMIN}),
    # Approving a change order above the firm's threshold (never one's own).
    "change_orders.approve": frozenset({R.ADMIN}),
    # Re-checking a fixed rectification item (never by whoever fixed it, owns it or runs the site).
    "rectifications.recheck": frozenset({R.ADMIN, R.QC}),
}

# Duties: the permissions a firm may give to other roles than the defaults above (the duty map, Settings →
# Staff → Duties; stored on the firm as ``Tenant.duties``). A firm admin always keeps each, so a duty is never
# left to nobody. Whoever holds one, the services still refuse a person's approval of their own work.
DUTIES = {
    "payments.manage": _("Record payments as received"),
    "receivables.view": _("See the receivables and the payment register"),
    "costs.view": _("See cost prices and margins"),
    "discounts.approve": _("Approve quotation discounts over the firm's threshold"),
    "change_orders.approve": _("Approve change orders over the firm's threshold"),
    "rectifications.recheck": _("Re-check fixed rectification items"),
    "library.manage": _("Keep the item library and packages"),
}

# Who may be given a callback, and be a worksite's customer-service agent (whom its aftercare goes to).
AGENT_ROLES = frozenset({R.CUSTOMER_SERVICE, R.ADMIN})


def duty_roles(duty: str, duties=None) -> frozenset[Role]:
    """The roles holding ``duty`` under a firm's duty map (``Tenant.duties``, None for the defaults): the
    default unless the firm chose, and a firm admin always."""
    chosen = (duties or {}).get(duty)
    if duty not in DUTIES or not isinstance(chosen, list):
        return PERMISSIONS[duty]
    return frozenset({R.ADMIN, *(Role(role) for role in chosen if role in Role.values)})


def role_has(role: str, permission: str, duties=None) -> bool:
    """Whether ``role`` has ``permission``; for a duty, under the firm's duty map ``duties``."""
    try:
        return Role(role) in duty_roles(permission, duties)
    except (KeyError, ValueError):
        return False


def scope_allows(scopes, group: str, *, write: bool) -> bool:
    return f"{group}:{'write' if write else 'read'}" in scopes


# "payments:write": recording payments received (POST instalments/{id}/record-payment/), which contracts:write
# does not include; reading them is contracts:read.
PAYMENTS_SCOPE = "payments:write"
# "contacts:read": full mobile numbers and addresses in answers; without it they come masked.
# "costs:read": cost prices (price items, quotation lines) in answers; without it the field is null.
COSTS_PERMISSION = "costs.view"
COSTS_SCOPE = "costs:read"
SCOPES = (
    *(f"{group}:{mode}" for group in GROUPS for mode in ("read", "write")),
    PAYMENTS_SCOPE,
    "contacts:read",
    COSTS_SCOPE,
)
