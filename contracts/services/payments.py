"""Writes for the payment schedule: instalments falling due when construction reaches their trigger, and
payments received."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from contracts.models import Contract, Instalment
from contracts.services.amounts import money
from renocrm.outbox.services import event_emit


def emit_payment_due(instalment: Instalment) -> None:
    event_emit(
        event_type="payment.due",
        payload={
            "instalment_id": instalment.pk,
            "contract_id": instalment.contract_id,
            "kind": instalment.kind,
            "amount": str(instalment.amount),
            "due_on": instalment.due_on.isoformat(),
        },
    )


@transaction.atomic
def instalments_fall_due(*, contract: Contract, trigger: str, on: date, phase: str = "") -> list[Instalment]:
    """Called by construction when a trigger happens (mid inspection passed, a phase accepted, completion
    accepted …): the instalments waiting on it get their due date. Idempotent: an instalment already due
    keeps its date."""
    due = []
    waiting = contract.instalments.select_for_update().filter(trigger=trigger, due_on__isnull=True)
    if trigger == Instalment.Trigger.PHASE_ACCEPTANCE:
        waiting = waiting.filter(trigger_phase=phase)
    for instalment in waiting:
        instalment.due_on = on + timedelta(days=instalment.due_days_after_trigger)
        instalment.save(update_fields=["due_on"])
        emit_payment_due(instalment)
        due.append(instalment)
    return due


@transaction.atomic
def instalment_record_payment(*, instalment: Instalment, paid_on: date, amount: Decimal | None = None) -> Instalment:
    instalment = Instalment.objects.select_for_update().get(pk=instalment.pk)
    if instalment.paid_on is not None:
        raise ValidationError(_("This instalment is already recorded as paid."))
    paid = money(amount if amount is not None else instalment.amount)
    if paid != instalment.amount:
        raise ValidationError(
            {
                "amount": _("The payment %(paid)s does not match the instalment's %(amount)s.")
                % {"paid": paid, "amount": instalment.amount}
            }
        )
    instalment.paid_on, instalment.paid_amount = paid_on, paid
    instalment.save(update_fields=["paid_on", "paid_amount"])
    event_emit(
        event_type="payment.received",
        payload={
            "instalment_id": instalment.pk,
            "contract_id": instalment.contract_id,
            "amount": str(paid),
            "paid_on": paid_on.isoformat(),
        },
    )
    return instalment
