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
    # Approving a quotation discount above the firm's threshold (never on a version one wrote oneself).
    "discounts.approve": frozenset({R.ADMIN}),
}

# Who may be given a callback, and be a worksite's customer-service agent (whom its aftercare goes to).
AGENT_ROLES = frozenset({R.CUSTOMER_SERVICE, R.ADMIN})


def role_has(role: str, permission: str) -> bool:
    try:
        return Role(role) in PERMISSIONS[permission]
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
