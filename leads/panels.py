"""Sections that later stages add to the lead page (design agreement, quotations, contract).

A later app registers a panel from its ``AppConfig.ready``; the lead page renders whatever is registered,
so this app never imports the stages that follow it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils.safestring import SafeString

LeadPanel = Callable[..., SafeString]  # (request, lead) -> rendered HTML

_panels: list[LeadPanel] = []


def register(panel: LeadPanel) -> LeadPanel:
    if panel not in _panels:
        _panels.append(panel)
    return panel


def render(request, lead) -> list[SafeString]:
    return [panel(request, lead) for panel in _panels]
