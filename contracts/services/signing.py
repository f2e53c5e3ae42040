"""Writes for signing a contract: the default payment schedule (from the firm's contract settings) and the
signature that wins the lead and opens the project."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from contracts import documents
from contracts.models import Contract, Instalment, MainMaterialLine, Project, QuotationVersion
from contracts.phases import phase_kind_choices
from contracts.services.amounts import line_amount, money
from contracts.services.payments import emit_payment_due
from contracts.services.quotations import locked_version
from contracts.services.settings import contract_settings_get
from leads.models import Lead, property_label
from leads.services.pipeline import lead_mark_won
from renocrm.outbox.services import event_emit


def default_instalments(*, amount: Decimal, signed_on: date) -> list[dict]:
    """The firm's default split: deposit on signing, mid-term at the mid inspection, final N days after
    acceptance. Rounding goes to the final instalment so the parts add up to the amount exactly."""
    settings = contract_settings_get()
    deposit = money(amount * settings.deposit_percent / 100)
    midterm = money(amount * settings.midterm_percent / 100)
    return [
        {
            "kind": Instalment.Kind.DEPOSIT,
            "amount": deposit,
            "trigger": Instalment.Trigger.ON_SIGNING,
            "due_on": signed_on,
        },
        {"kind": Instalment.Kind.MIDTERM, "amount": midterm, "trigger": Instalment.Trigger.MID_INSPECTION},
        {
            "kind": Instalment.Kind.FINAL,
            "amount": amount - deposit - midterm,
            "trigger": Instalment.Trigger.ACCEPTANCE,
            "due_days_after_trigger": settings.final_due_days,
        },
    ]


def check_trigger_phases(schedule: list[dict]) -> None:
    """An instalment tied to a phase names one of the phase kinds construction registered: construction
    reports acceptance by kind, so a misspelt phase would never fall due."""
    kinds = [value for value, _label in phase_kind_choices()]
    for number, item in enumerate(schedule, start=1):
        phase = item.get("trigger_phase") or ""
        if item["trigger"] == Instalment.Trigger.PHASE_ACCEPTANCE and not phase:
            raise ValidationError({"instalments": _("Name the phase whose acceptance makes the instalment due.")})
        if phase and phase not in kinds:
            raise ValidationError(
                {
                    "instalments": _(
                        "Instalment %(number)s names the phase “%(phase)s”, which construction does not know. The "
                        "phases: %(kinds)s."
                    )
                    % {"number": number, "phase": phase, "kinds": ", ".join(kinds) or "—"}
                }
            )


@transaction.atomic
def contract_sign(
    *,
    version: QuotationVersion,
    number: str,
    package_type: str,
    planned_start: date,
    planned_end: date,
    signed_on: date,
    by=None,
    terms: str = "",
    main_materials: list[dict] | None = None,
    instalments: list[dict] | None = None,
    ip: str | None = None,
) -> Contract:
    """Sign the contract for an accepted quotation version: wins the lead, opens the project, sets the
    payment schedule (whose amounts must add up to the contract amount) and emits ``contract.signed``."""
    version = locked_version(version)
    lead = Lead.objects.select_for_update().get(pk=version.quotation.lead_id)
    if version.status != QuotationVersion.Status.ACCEPTED:
        raise ValidationError({"quotation_version": _("The customer has not accepted this quotation version.")})
    if Contract.objects.filter(quotation_version__quotation=version.quotation_id).exists():
        raise ValidationError({"quotation_version": _("A contract has already been signed for this quotation.")})
    if planned_end < planned_start:
        raise ValidationError({"planned_end": _("The planned end is before the planned start.")})
    if Contract.objects.filter(number=number).exists():
        raise ValidationError({"number": _("Contract number %(number)s is already used.") % {"number": number}})
    amount = version.total
    schedule = instalments or default_instalments(amount=amount, signed_on=signed_on)
    check_trigger_phases(schedule)
    scheduled = money(sum((Decimal(item["amount"]) for item in schedule), Decimal("0")))
    if scheduled != amount:
        raise ValidationError(
            {
                "instalments": _("The instalments add up to %(sum)s but the contract amount is %(amount)s.")
                % {"sum": scheduled, "amount": amount}
            }
        )

    project = Project.objects.create(
        customer_id=lead.customer_id,
        property_id=lead.property_id,
        lead=lead,
        name=property_label(lead.property, lead.customer),
    )
    contract = Contract.objects.create(
        project=project,
        number=number,
        package_type=package_type,
        quotation_version=version,
        original_amount=amount,
        amount=amount,
        planned_start=planned_start,
        planned_end=planned_end,
        terms=terms,
        signed_on=signed_on,
        signed_by=by,
    )
    MainMaterialLine.objects.bulk_create(
        [
            MainMaterialLine(
                contract=contract,
                name=line["name"],
                brand_model=line.get("brand_model", ""),
                unit=line["unit"],
                quantity=line["quantity"],
                unit_price=line["unit_price"],
                amount=line_amount(line["quantity"], line["unit_price"], field="main_materials"),
            )
            for line in main_materials or []
        ]
    )
    created = Instalment.objects.bulk_create(
        [
            Instalment(
                contract=contract,
                sequence=sequence,
                kind=item["kind"],
                amount=money(item["amount"]),
                trigger=item["trigger"],
                due_days_after_trigger=item.get("due_days_after_trigger", 0),
                due_on=item.get("due_on"),
                trigger_phase=item.get("trigger_phase", ""),
            )
            for sequence, item in enumerate(schedule, start=1)
        ]
    )
    lead_mark_won(lead=lead, by=by)
    event_emit(
        event_type="contract.signed",
        payload={
            "contract_id": contract.pk,
            "project_id": project.pk,
            "lead_id": lead.pk,
            "number": contract.number,
            "amount": str(contract.amount),
            "signed_on": signed_on.isoformat(),
        },
    )
    for instalment in created:
        if instalment.due_on is not None:
            emit_payment_due(instalment)
    # What was signed, frozen in this transaction (``ip``: where the signing was recorded from).
    documents.signed_copy_freeze(contract=contract, ip=ip)
    return contract
