"""Every settings page of the product, grouped, for the one settings page a firm admin starts from.

An entry names its page by URL name, so the platform never imports a lifecycle app: a page is added with one
line in ``PAGES`` (or ``register(...)`` from an app's ``ready()``). An entry whose URL name does not resolve
(its app not installed, its page not built yet) is left out, and so is one whose permission the member lacks.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

# (key, heading), in the order the page shows them.
GROUPS: tuple[tuple[str, str], ...] = (
    ("firm", _("Firm")),
    ("staff", _("Staff and security")),
    ("sales", _("Sales and contracts")),
    ("construction", _("Construction")),
    ("aftercare", _("Aftercare and service")),
    ("notices", _("Notices and integrations")),
    ("privacy", _("Privacy")),
)


@dataclass(frozen=True)
class SettingsPage:
    group: str  # a key of GROUPS
    label: str
    url_name: str
    permission: str  # from renocrm/accounts/roles.py: who sees the entry (the page itself checks again)
    description: str = ""


PAGES: list[SettingsPage] = [
    SettingsPage(
        "firm",
        _("Firm profile"),
        "tenancy:firm-profile",
        "firm.view",
        _("Name, logo, address, phone, business licence, time zone, language and working hours."),
    ),
    SettingsPage("staff", _("Staff and roles"), "staff:list", "firm.view"),
    SettingsPage(
        "staff",
        _("Duties"),
        "staff:duties",
        "firm.view",
        _("Which roles record payments, see costs, approve discounts and change orders, re-check rectification."),
    ),
    SettingsPage("staff", _("Two-factor sign-in"), "twofactor:policy", "firm.manage"),
    SettingsPage("staff", _("Audit log"), "audit:list", "audit.view", _("Who changed what, and when.")),
    # ContractSettings: the payment split, the change-order thresholds (the 10 % re-quote rule), the defaults of
    # a new quotation version and the SMS reminders.
    SettingsPage(
        "sales",
        _("Contract settings"),
        "contracts:settings",
        "firm.manage",
        _(
            "Deposit, mid-term and final payment shares; change-order thresholds; management fee, tax and "
            "discount approval of quotations; measurement and payment reminders."
        ),
    ),
    SettingsPage(
        "sales",
        _("Item library and packages"),
        "contracts:price-items",
        "library.manage",
        _("The materials and labour quotations are priced from, with their prices; 全包 / 半包 packages."),
    ),
    SettingsPage(
        "construction",
        _("Phase template"),
        "worksites:template",
        "worksites.view",
        _("The phases, durations and sign-offs every new worksite starts from."),
    ),
    SettingsPage(
        "construction",
        _("Construction settings"),
        "worksites:construction-settings",
        "worksites.view",
        _("Gates, inspection notices to homeowners and their text."),
    ),
    SettingsPage(
        "construction",
        _("Acceptance checklist"),
        "worksites:acceptance-template",
        "worksites.view",
        _("The items checked one by one at handover."),
    ),
    SettingsPage(
        "aftercare",
        _("Warranty coverages"),
        "aftercare:rules",
        "aftercare.view",
        _("What each warranty covers and for how long."),
    ),
    SettingsPage(
        "aftercare",
        _("Aftercare settings"),
        "aftercare:settings",
        "aftercare.view",
        _("Repair deadlines, warranty reminders and member care."),
    ),
    SettingsPage(
        "aftercare",
        _("Callback plan"),
        "callbacks:plan",
        "callbacks.manage",
        _("When callbacks fall due after handover and milestones."),
    ),
    SettingsPage(
        "aftercare",
        _("Callback settings"),
        "callbacks:settings",
        "callbacks.manage",
        _("Retries and the callback SMS text."),
    ),
    SettingsPage(
        "aftercare",
        _("Complaint handling"),
        "complaints:settings",
        "complaints.view",
        _("The three levels, who holds them and their deadlines."),
    ),
    SettingsPage("notices", _("SMS and WeCom"), "outbox:notice-settings", "firm.manage"),
    SettingsPage("notices", _("API keys"), "integrations:keys", "integrations.view", _("Keys for partner systems.")),
    SettingsPage(
        "notices",
        _("Webhooks"),
        "integrations:webhooks",
        "integrations.view",
        _("Where events are sent, and their deliveries."),
    ),
    SettingsPage(
        "privacy",
        _("Personal data and retention"),
        "privacy:home",
        "firm.manage",
        _("How long lost leads are kept; the firm's full export."),
    ),
]


def register(page: SettingsPage) -> None:
    """Add an app's settings page (from its AppConfig.ready); the URL name is the key, so twice is once."""
    if all(existing.url_name != page.url_name for existing in PAGES):
        PAGES.append(page)


@dataclass(frozen=True)
class SettingsLink:
    page: SettingsPage
    url: str


@dataclass(frozen=True)
class SettingsGroup:
    key: str
    label: str
    links: list[SettingsLink]


def _url(url_name: str) -> str | None:
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return None


def settings_groups(membership, *, pages=None) -> list[SettingsGroup]:
    """The groups of settings pages this membership may open, each with the pages that exist; empty groups
    are left out."""
    if membership is None:
        return []
    pages = PAGES if pages is None else pages
    groups = []
    for key, label in GROUPS:
        links = [
            SettingsLink(page=page, url=url)
            for page in pages
            if page.group == key and membership.has_perm(page.permission) and (url := _url(page.url_name))
        ]
        if links:
            groups.append(SettingsGroup(key=key, label=label, links=links))
    return groups
