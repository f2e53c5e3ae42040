"""Writes for the payment schedule: instalments falling due when construction reaches their trigger, and
payments received."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from contracts.models import Contract, Instalment, Project
from contracts.services.amounts import money
from renocrm.accounts.roles import PAYMENTS_SCOPE
from renocrm.accounts.staff import require_staff_duty
from renocrm.outbox.services import event_emit
from renocrm.tenancy.context import require_current_tenant

# Who records money received: never the person who sold or designed the job.
PAYMENT_DUTY = "payments.manage"


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


def require_payment_recorder(*, by=None, api_key=None) -> None:
    """Refuse, on ``recorded_by``, anyone but an active member holding the payments duty (finance and firm
    admins unless the firm's duty map says otherwise) — or a partner's key of the firm that holds the
    payments:write scope (``by`` is then None)."""
    refusal = ValidationError(
        {
            "recorded_by": _(
                "Only finance, a firm admin or a role the firm gave that duty may record a payment as received."
            )
        }
    )
    if by is None:
        if api_key is None or api_key.tenant_id != require_current_tenant().pk:
            raise refusal
        if PAYMENTS_SCOPE not in api_key.scopes:
            raise ValidationError(
                {"recorded_by": _("Recording a payment needs the %(scope)s scope.") % {"scope": PAYMENTS_SCOPE}}
            )
        return
    try:
        require_staff_duty(by, duty=PAYMENT_DUTY, field="recorded_by")
    except ValidationError:
        raise refusal from None


@transaction.atomic
def instalment_record_payment(
    *, instalment: Instalment, paid_on: date, by=None, api_key=None, amount: Decimal | None = None
) -> Instalment:
    """Record an instalment as received, in full. Finance's work: ``by`` is the staff member recording it,
    or, for a partner's system, ``api_key`` (see ``require_payment_recorder``)."""
    require_payment_recorder(by=by, api_key=api_key)
    # The project first, as the handover locks it before its instalments: whichever of the two comes second
    # sees the other done (aftercare issues the warranty card then), and they never wait on each other.
    project_id = Contract.objects.filter(pk=instalment.contract_id).values_list("project_id", flat=True)
    Project.objects.select_for_update().filter(pk__in=project_id).first()
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
    instalment.paid_on, instalment.paid_amount, instalment.recorded_by = paid_on, paid, by
    instalment.save(update_fields=["paid_on", "paid_amount", "recorded_by"])
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
