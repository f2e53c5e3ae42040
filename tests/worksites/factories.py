"""Worksites factories; create inside tenant_context(firm)."""

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from tests.contracts.factories import ContractFactory
from tests.factories import StaffFactory
from worksites.models import (
    AcceptanceItem,
    AcceptanceItemTemplate,
    ConstructionSettings,
    Gate,
    GateOverride,
    Handover,
    HandoverDocument,
    Inspection,
    MaterialArrival,
    Phase,
    PhaseKind,
    PhaseTemplate,
    PortalAction,
    PortalLink,
    ProblemSolution,
    ProgressMedia,
    ProgressUpdate,
    RectificationItem,
    Signoff,
    SignoffRole,
    SiteMedia,
    SitePatrol,
    SiteProblem,
    TechnicalHandover,
    Worksite,
)


class PhaseTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PhaseTemplate

    position = factory.Sequence(lambda n: n + 1)
    kind = PhaseKind.CARPENTRY
    name = "Carpentry"
    duration_days = 10


class WorksiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Worksite

    contract = factory.SubFactory(ContractFactory)
    project = factory.SelfAttribute("contract.project")


class PhaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Phase

    worksite = factory.SubFactory(WorksiteFactory)
    position = factory.Sequence(lambda n: n + 1)
    kind = PhaseKind.DEMOLITION
    name = "Demolition"
    planned_start = factory.LazyFunction(date.today)
    planned_end = factory.LazyFunction(lambda: date.today() + timedelta(days=4))


class GateOverrideFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GateOverride

    worksite = factory.SubFactory(WorksiteFactory)
    gate = Gate.WATERPROOFING
    reason = "Tiles laid dry on the homeowner's written request"
    overridden_by = factory.SubFactory(StaffFactory)


class ConstructionSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConstructionSettings


class TechnicalHandoverFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TechnicalHandover

    worksite = factory.SubFactory(WorksiteFactory)
    held_on = factory.LazyFunction(date.today)
    existing_facilities = "Walls sound; old wiring to be replaced"


def _png(name="photo.png"):
    from io import BytesIO

    from django.core.files.base import ContentFile
    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (8, 8), "orange").save(out, format="PNG")
    return ContentFile(out.getvalue(), name=name)


class ProgressUpdateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgressUpdate

    worksite = factory.SubFactory(WorksiteFactory)
    note = "Tiling in the bathroom finished"


class ProgressMediaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgressMedia

    update = factory.SubFactory(ProgressUpdateFactory)
    kind = ProgressMedia.Kind.IMAGE
    file = factory.LazyFunction(_png)
    content_type = "image/png"
    size = 100


class InspectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Inspection

    worksite = factory.SubFactory(WorksiteFactory)
    kind = Inspection.Kind.MID_TERM
    scheduled_on = factory.LazyFunction(date.today)


class MaterialArrivalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MaterialArrival

    worksite = factory.SubFactory(WorksiteFactory)
    material = "Floor tiles 800×800"
    brand_model = "Marco Polo"
    quantity = Decimal("42.00")
    unit = "m²"
    arrived_on = factory.LazyFunction(date.today)


class SignoffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Signoff

    inspection = factory.SubFactory(InspectionFactory)
    role = SignoffRole.QC_INSPECTOR
    signed_name = "Wang QC"


class SiteMediaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SiteMedia

    problem = factory.SubFactory("tests.worksites.factories.SiteProblemFactory")
    kind = SiteMedia.Kind.IMAGE
    file = factory.LazyFunction(_png)
    content_type = "image/png"
    size = 100
    uploaded_by = factory.SubFactory(StaffFactory)


class SitePatrolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SitePatrol

    worksite = factory.SubFactory(WorksiteFactory)
    patrolled_on = factory.LazyFunction(date.today)
    role = SitePatrol.Role.FOREMAN
    findings = "Site tidy, materials covered"


class SiteProblemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SiteProblem

    worksite = factory.SubFactory(WorksiteFactory)
    title = "Load-bearing pillar where the wardrobe goes"


class ProblemSolutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProblemSolution

    problem = factory.SubFactory(SiteProblemFactory)
    position = factory.Sequence(lambda n: n + 1)
    description = "Build the wardrobe around the pillar"


class AcceptanceItemTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AcceptanceItemTemplate

    position = factory.Sequence(lambda n: n + 1)
    area = "Walls"
    item = "Paint even, no cracks"


class HandoverFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Handover

    worksite = factory.SubFactory(WorksiteFactory)


class AcceptanceItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AcceptanceItem

    handover = factory.SubFactory(HandoverFactory)
    position = factory.Sequence(lambda n: n + 1)
    area = "Floors"
    item = "Tiles level, no hollow sound"


class RectificationItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RectificationItem

    handover = factory.SubFactory(HandoverFactory)
    description = "Re-seal the bathroom window"
    owner = factory.SubFactory(StaffFactory)
    deadline = factory.LazyFunction(lambda: date.today() + timedelta(days=7))


class HandoverDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HandoverDocument

    handover = factory.SubFactory(HandoverFactory)
    kind = HandoverDocument.Kind.WARRANTY_CARD
    file = factory.LazyFunction(lambda: _png("warranty.png"))
    content_type = "image/png"
    size = 100


class PortalLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PortalLink

    worksite = factory.SubFactory(WorksiteFactory)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))


class PortalActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PortalAction

    link = factory.SubFactory(PortalLinkFactory)
    action = PortalAction.Action.OPENED


_PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def finish_construction(worksite, *, water_hours=48):
    """Drive ``worksite`` through its whole schedule with the real services, in the trade's order: each
    covered inspection passes before the phase covering it starts, every phase finishes (signed off where
    the homeowner signs), QC pre-inspects and the final acceptance passes today. Only the handover's own
    checklist and documents remain. A crew of three signs: a QC inspector, a foreman and a designer; the
    homeowner signs through a portal link. Call inside the firm's context."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from worksites.selectors import gates
    from worksites.services import inspections, portal, schedule

    K = Inspection.Kind
    crew = {
        SignoffRole.QC_INSPECTOR: StaffFactory(membership__role="qc"),
        SignoffRole.SITE_MANAGER: StaffFactory(membership__role="project_manager"),
        SignoffRole.DESIGNER: StaffFactory(membership__role="designer"),
    }
    link = portal.portal_link_create(worksite=worksite, days=30)

    def passed(kind):
        if kind in gates.passed_kinds(worksite.pk):
            return
        inspection = inspections.inspection_schedule(
            worksite=worksite, kind=kind, created_by=crew[SignoffRole.SITE_MANAGER]
        )
        for role in inspection.required_roles:
            if role == SignoffRole.HOMEOWNER:
                inspections.inspection_sign(inspection=inspection, role=role, signed_name="Homeowner", portal_link=link)
            else:
                inspections.inspection_sign(inspection=inspection, role=role, signed_name="", user=crew[role])
        if kind == K.CONCEALED_WORKS:
            diagram = SimpleUploadedFile("circuits.pdf", _PDF, content_type="application/pdf")
            inspections.inspection_attach_circuit_diagram(inspection=inspection, upload=diagram)
        inspections.inspection_record_result(
            inspection=inspection,
            passed=True,
            findings="",
            decided_by=crew[SignoffRole.QC_INSPECTOR],
            water_hours=water_hours if kind == K.WATERPROOFING_TEST else None,
        )

    for phase in worksite.phases.order_by("position"):
        if phase.covers_concealed_works:
            passed(K.CONCEALED_WORKS)
        if phase.covers_waterproofing:
            passed(K.WATERPROOFING_TEST)
        if phase.kind in gates.HANDOVER_PHASE_KINDS:
            continue
        if gates.INSPECTION_OF_PHASE.get(phase.kind) in (K.CONCEALED_WORKS, K.WATERPROOFING_TEST, K.MID_TERM):
            passed(gates.INSPECTION_OF_PHASE[phase.kind])
        if phase.status in (Phase.Status.PLANNED, Phase.Status.IN_PROGRESS):
            phase = schedule.phase_complete(phase=phase)
        if phase.requires_acceptance and phase.status == Phase.Status.DONE:
            schedule.phase_accept(phase=phase, name="Homeowner")
    passed(K.QC_PRE_INSPECTION)
    passed(K.FINAL_ACCEPTANCE)
    worksite.refresh_from_db()
    return worksite
