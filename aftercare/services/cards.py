"""The warranty card (保修单): issued once per project when the final payment is recorded and the project is
handed over — whichever of the two comes second — from the two events' handlers, or by staff for a project
that met both before cards were issued."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from aftercare.models import AftercareSettings, WarrantyCard
from aftercare.services.policy import aftercare_settings_get
from contracts.models import Contract, Instalment, Project
from renocrm.outbox.services import event_emit
from renocrm.tenancy.time import firm_today

# 保修: the firm's warranty cards are numbered BX-<year>-<sequence in the year>.
NUMBER_PREFIX = "BX"


def _final_payment(project: Project) -> Instalment | None:
    """The final instalment of the project's contract once every final instalment is paid, else None."""
    contract = Contract.objects.filter(project=project).first()
    if contract is None:
        return None
    finals = list(Instalment.objects.filter(contract=contract, kind=Instalment.Kind.FINAL).order_by("sequence"))
    if not finals or any(final.paid_on is None for final in finals):
        return None
    return finals[-1]


def warranty_card_blockers(*, project: Project) -> list[ValidationError]:
    """Why the project's card cannot be issued yet (none when it can)."""
    reasons = []
    if project.handed_over_on is None:
        reasons.append(ValidationError(_("The project is not handed over yet."), code="not_handed_over"))
    if _final_payment(project) is None:
        reasons.append(ValidationError(_("The final payment is not recorded yet."), code="final_payment_missing"))
    return reasons


def _issue(project: Project, instalment: Instalment) -> WarrantyCard:
    # Issuing takes the firm's aftercare settings row as its lock: two payments recorded at once get one card
    # each project and numbers without a gap; the unique keys stay the last word.
    AftercareSettings.objects.select_for_update().filter(pk=aftercare_settings_get().pk).get()
    existing = WarrantyCard.objects.filter(project=project).first()
    if existing is not None:
        return existing
    today = firm_today()
    sequence = (WarrantyCard.objects.filter(year=today.year).aggregate(n=Max("sequence"))["n"] or 0) + 1
    card = WarrantyCard.objects.create(
        project=project,
        customer_id=project.customer_id,
        instalment=instalment,
        number=f"{NUMBER_PREFIX}-{today.year}-{sequence:04d}",
        year=today.year,
        sequence=sequence,
        issued_on=today,
    )
    event_emit(
        event_type="warranty_card.issued",
        payload={
            "id": card.pk,
            "number": card.number,
            "project_id": project.pk,
            "customer_id": project.customer_id,
            "instalment_id": instalment.pk,
            "issued_on": today.isoformat(),
        },
    )
    return card


@transaction.atomic
def warranty_card_issue_if_due(*, project: Project) -> WarrantyCard | None:
    """The project's card: issued now when it is handed over and its final payment is in (the one issued
    before when there is one); None while either is missing. Safe to run twice."""
    project = Project.objects.select_for_update().get(pk=project.pk)  # with the handover and the payment
    if project.handed_over_on is None:
        return None
    final = _final_payment(project)
    if final is None:
        return None
    return _issue(project, final)


@transaction.atomic
def warranty_card_issue(*, project: Project) -> WarrantyCard:
    """Staff issue the card of a project that is handed over and paid in full but has none (one finished
    before cards were issued); refused, with every reason, while it is not. Issuing it again gives the same
    card."""
    project = Project.objects.select_for_update().get(pk=project.pk)  # with the handover and the payment
    reasons = warranty_card_blockers(project=project)
    if reasons:
        raise ValidationError(reasons)
    return _issue(project, _final_payment(project))


def on_payment_received(event) -> None:
    """``payment.received``, in the payment's transaction: the final payment of a handed-over project issues
    its card. Any other payment, or a project not handed over yet, does nothing."""
    instalment = (
        Instalment.objects.filter(pk=event.payload.get("instalment_id")).select_related("contract__project").first()
    )
    if instalment is None or instalment.kind != Instalment.Kind.FINAL:
        return
    warranty_card_issue_if_due(project=instalment.contract.project)


def on_project_handed_over(event) -> None:
    """``project.handed_over``, in the handover's transaction: a project whose final payment came first gets
    its card with the handover."""
    project = Project.objects.filter(pk=event.payload.get("project_id")).first()
    if project is not None:
        warranty_card_issue_if_due(project=project)
