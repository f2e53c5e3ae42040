"""The site navigation: one entry per lifecycle stage and platform page, shown in every page's header.

An entry whose URL name does not resolve yet is shown as not yet available, and an entry the user's role may
not see is left out, so a lifecycle app only has to provide the URL name listed here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from renocrm.accounts.firms import memberships_of


@dataclass(frozen=True)
class NavEntry:
    key: str
    label: str
    url_name: str
    permission: str
    # A lifecycle stage gets a section on the dashboard; platform pages (reports, audit log) do not.
    stage: bool = True


ENTRIES: tuple[NavEntry, ...] = (
    NavEntry("agenda", _("My agenda"), "dashboard:agenda", "dashboard.view", stage=False),
    NavEntry("leads", _("Leads"), "leads:list", "leads.view"),
    NavEntry("contracts", _("Contracts"), "contracts:list", "contracts.view"),
    NavEntry("worksites", _("Worksites"), "worksites:list", "worksites.view"),
    NavEntry("aftercare", _("Aftercare"), "aftercare:list", "aftercare.view"),
    NavEntry("callbacks", _("Callbacks"), "callbacks:list", "callbacks.view"),
    NavEntry("complaints", _("Complaints"), "complaints:list", "complaints.view"),
    NavEntry("receivables", _("Receivables"), "dashboard:receivables", "receivables.view", stage=False),
    NavEntry("reports", _("Reports"), "dashboard:reports", "reports.view", stage=False),
    NavEntry("integrations", _("Integrations"), "integrations:home", "integrations.view", stage=False),
    NavEntry("privacy", _("Personal data"), "privacy:home", "firm.manage", stage=False),
    NavEntry("audit", _("Audit log"), "audit:list", "audit.view", stage=False),
    NavEntry("settings", _("Settings"), "tenancy:settings", "firm.view", stage=False),
)


@dataclass(frozen=True)
class NavItem:
    entry: NavEntry
    url: str | None
    active: bool = False

    @property
    def available(self) -> bool:
        return self.url is not None


def _url(url_name: str) -> str | None:
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return None


def nav_items(membership, *, path: str = "", entries=ENTRIES) -> list[NavItem]:
    """The entries this membership may see, with their URL (None: not available yet)."""
    if membership is None:
        return []
    items = []
    for entry in entries:
        if not membership.has_perm(entry.permission):
            continue
        url = _url(entry.url_name)
        items.append(NavItem(entry=entry, url=url, active=bool(url) and path.startswith(url)))
    return items


def navigation(request) -> dict:
    """Context processor for the page shell: the navigation and the firms the user may switch to."""
    user = getattr(request, "user", None)
    membership = getattr(request, "membership", None)
    signed_in = user is not None and user.is_authenticated
    return {
        "current_membership": membership,
        "nav_items": SimpleLazyObject(lambda: nav_items(membership, path=request.path)),
        "user_firms": SimpleLazyObject(lambda: list(memberships_of(user)) if signed_in else []),
    }
