"""Tabs that later stages add to the homeowner portal (repairs, complaints …).

A later app registers a tab from its ``AppConfig.ready`` with the URL name of a page that takes the portal
token; the portal renders whatever is registered, so this app never imports the stages that follow it.
Those pages open the link with ``worksites.views.portal.portal_page`` like the portal's own.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PortalTab:
    key: str
    label: str
    url_name: str  # reversed with the portal token as its only argument


_tabs: list[PortalTab] = []


def register(tab: PortalTab) -> PortalTab:
    if tab not in _tabs:
        _tabs.append(tab)
    return tab


def tabs() -> list[PortalTab]:
    return list(_tabs)
