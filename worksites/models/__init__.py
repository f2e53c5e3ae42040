"""Construction and handover data, one module per part of the stage."""

from .gates import ConstructionSettings, Gate, GateOverride
from .handover import AcceptanceItem, AcceptanceItemTemplate, Handover, HandoverDocument, RectificationItem
from .inspections import (
    Inspection,
    MaterialArrival,
    ProblemSolution,
    Signoff,
    SignoffRole,
    SiteMedia,
    SitePatrol,
    SiteProblem,
)
from .portal import PortalAction, PortalLink
from .progress import ProgressMedia, ProgressUpdate
from .schedule import Phase, PhaseKind, PhaseTemplate, TechnicalHandover, Worksite

__all__ = [
    "AcceptanceItem",
    "AcceptanceItemTemplate",
    "ConstructionSettings",
    "Gate",
    "GateOverride",
    "Handover",
    "HandoverDocument",
    "Inspection",
    "MaterialArrival",
    "Phase",
    "PhaseKind",
    "PhaseTemplate",
    "PortalAction",
    "PortalLink",
    "ProblemSolution",
    "ProgressMedia",
    "ProgressUpdate",
    "RectificationItem",
    "Signoff",
    "SignoffRole",
    "SiteMedia",
    "SitePatrol",
    "SiteProblem",
    "TechnicalHandover",
    "Worksite",
]
