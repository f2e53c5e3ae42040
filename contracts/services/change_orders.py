"""Writes for change orders: additions and removals priced against the contract, the re-quote rule, who may
approve a large one, and the approval that carries the change into the contract amount and its unpaid
instalments."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.models import ChangeOrder, ChangeOrderLine, Contract, Instalment, QuotationVersion
from contracts.services.amounts import line_amount, money
from contracts.services.signing import contract_settings_get
from renocrm.accounts.staff import require_staff_duty
from renocrm.outbox.services import event_emit
from renocrm.tenancy.time import firm_today


@transaction.atomic
def change_order_create(*, contract: Contract, reason: str, lines: list[dict], by=None) -> ChangeOrder:
    if not lines:
        raise ValidationError({"lines": _("A change order needs at least one addition or removal.")})
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    number = (contract.change_orders.aggregate(n=Max("number"))["n"] or 0) + 1
    order = ChangeOrder.objects.create(contract=contract, number=number, reason=reason, created_by=by)
    rows = [
        ChangeOrderLine(
            change_order=order,
            kind=line["kind"],
            category=line["category"],
            name=line["name"],
            unit=line["unit"],
            quantity=line["quantity"],
            unit_price=line["unit_price"],
            amount=line_amount(line["quantity"], line["unit_price"], field="lines"),
        )
        for line in lines
    ]
    ChangeOrderLine.objects.bulk_create(rows)
    additions = (r.amount for r in rows if r.kind == ChangeOrderLine.Kind.ADDITION)
    removals = (r.amount for r in rows if r.kind == ChangeOrderLine.Kind.REMOVAL)
    order.additions = money(sum(additions, Decimal(0)), field="lines")
    order.removals = money(sum(removals, Decimal(0)), field="lines")
    order.save(update_fields=["additions", "removals"])
    return order


def change_order_needs_requote(
    *, order: ChangeOrder, approved_changes: Decimal | None = None, threshold_percent: Decimal | None = None
) -> bool:
    """The 10 % rule: when the approved changes plus this one, counted in absolute terms (an addition and a
    removal both count), exceed the firm's threshold of the signed amount, the customer must sign a new
    quotation version before the change is approved and work goes on. Only a draft can still need it: a
    decided change order needs nothing. Lists pass the approved total and the threshold they computed once
    for all rows."""
    if order.status != ChangeOrder.Status.DRAFT:
        return False
    contract = order.contract
    if approved_changes is None:
        approved = contract.change_orders.filter(status=ChangeOrder.Status.APPROVED).aggregate(
            additions=Sum("additions"), removals=Sum("removals")
        )
        approved_changes = (approved["additions"] or 0) + (approved["removals"] or 0)
    if threshold_percent is None:
        threshold_percent = contract_settings_get().change_order_threshold_percent
    cumulative = approved_changes + order.additions + order.removals
    return cumulative > contract.original_amount * threshold_percent / 100


def change_order_needs_manager(*, order: ChangeOrder, threshold_percent: Decimal | None = None) -> bool:
    """Whether a manager with the approval duty, other than its author, must approve this change order: its
    net change, an addition or a reduction alike, is more than the firm's approval share of the signed
    amount. Only a draft can still need it. Lists pass the share they read once for all rows."""
    if order.status != ChangeOrder.Status.DRAFT:
        return False
    if threshold_percent is None:
        threshold_percent = contract_settings_get().change_order_approval_percent
    return abs(order.net) > order.contract.original_amount * threshold_percent / 100


APPROVAL_DUTY = "change_orders.approve"


def change_order_may_approve(*, order: ChangeOrder, user, membership, threshold_percent: Decimal | None = None) -> bool:
    """Whether ``user`` (with ``membership``) may approve ``order`` as far as its size goes (the page offers
    the button only then; the service decides)."""
    if not change_order_needs_manager(order=order, threshold_percent=threshold_percent):
        return True
    return membership.has_perm(APPROVAL_DUTY) and user.pk != order.created_by_id


def _require_manager(*, order: ChangeOrder, by) -> None:
    """Nobody approves their own large change: the approver is an active member holding the approval duty (a
    firm admin unless the firm's duty map gives it to another role too) who did not write it."""
    if by is not None and by.pk == order.created_by_id:
        raise ValidationError(
            {"decided_by": _("You wrote this change order; it needs the approval of a manager other than its author.")}
        )
    try:
        if by is None:  # a partner's key is nobody's approval
            raise ValidationError("")
        require_staff_duty(by, duty=APPROVAL_DUTY, field="decided_by")
    except ValidationError:
        percent = contract_settings_get().change_order_approval_percent
        raise ValidationError(
            {
                "decided_by": _(
                    "This change order moves the price by more than %(percent)s%% of the signed amount: a firm "
                    "admin (or a role the firm gave that duty) must approve it."
                )
                % {"percent": format(percent.normalize(), "f")}
            }
        ) from None


@transaction.atomic
def change_order_approve(*, order: ChangeOrder, by=None) -> ChangeOrder:
    """Approve a draft change order: its change goes into the contract amount and the unpaid instalments.
    A large one (``change_order_needs_manager``) needs a firm admin who is not its author; one over the
    re-quote threshold needs a newly accepted quotation version."""
    order = ChangeOrder.objects.select_for_update().select_related("contract").get(pk=order.pk)
    if order.status != ChangeOrder.Status.DRAFT:
        raise ValidationError(_("Only a draft change order can be approved."))
    contract = Contract.objects.select_for_update().get(pk=order.contract_id)
    order.contract = contract
    if change_order_needs_manager(order=order):
        _require_manager(order=order, by=by)
    if change_order_needs_requote(order=order):
        requote = QuotationVersion.objects.filter(
            quotation_id=contract.quotation_version.quotation_id,
            status=QuotationVersion.Status.ACCEPTED,
            accepted_at__gte=order.created_at,
        ).first()
        if requote is None:
            raise ValidationError(
                _(
                    "Together with earlier changes this change order exceeds %(percent)s%% of the contract amount: the "
                    "customer must accept a new quotation version before it can be approved."
                )
                % {"percent": format(contract_settings_get().change_order_threshold_percent.normalize(), "f")}
            )
        order.requote_version = requote
        contract.quotation_version = requote
    _apply_to_schedule(contract=contract, net=order.net)
    contract.amount = money(contract.amount + order.net)
    contract.save(update_fields=["amount", "quotation_version"])
    order.status, order.decided_at, order.decided_by = ChangeOrder.Status.APPROVED, timezone.now(), by
    order.save(update_fields=["status", "decided_at", "decided_by", "requote_version"])
    event_emit(
        event_type="change_order.approved",
        payload={
            "change_order_id": order.pk,
            "contract_id": contract.pk,
            "net": str(order.net),
            "contract_amount": str(contract.amount),
        },
    )
    return order


@transaction.atomic
def change_order_reject(*, order: ChangeOrder, by=None) -> ChangeOrder:
    order = ChangeOrder.objects.select_for_update().get(pk=order.pk)
    if order.status != ChangeOrder.Status.DRAFT:
        raise ValidationError(_("Only a draft change order can be rejected."))
    order.status, order.decided_at, order.decided_by = ChangeOrder.Status.REJECTED, timezone.now(), by
    order.save(update_fields=["status", "decided_at", "decided_by"])
    return order


def _apply_to_schedule(*, contract: Contract, net: Decimal) -> None:
    """Spread a change over the unpaid instalments in proportion to their amounts (the last takes the
    rounding), so the schedule keeps adding up to the contract amount."""
    if net == 0:
        return
    unpaid = list(contract.instalments.select_for_update().filter(paid_on__isnull=True).order_by("sequence"))
    outstanding = sum((i.amount for i in unpaid), Decimal("0"))
    if not unpaid:
        if net < 0:
            raise ValidationError(_("Every instalment is paid; a reduction must be settled as a refund."))
        last = contract.instalments.aggregate(n=Max("sequence"))["n"] or 0
        Instalment.objects.create(
            contract=contract,
            sequence=last + 1,
            kind=Instalment.Kind.OTHER,
            amount=money(net),
            trigger=Instalment.Trigger.FIXED_DATE,
            due_on=firm_today(),
        )
        return
    if outstanding + net < 0:
        raise ValidationError(_("The reduction is larger than what is still to be paid."))
    remaining = net
    for instalment in unpaid[:-1]:
        share = money(net * instalment.amount / outstanding) if outstanding else Decimal("0")
        instalment.amount += share
        remaining -= share
        instalment.save(update_fields=["amount"])
    unpaid[-1].amount += remaining
    unpaid[-1].save(update_fields=["amount"])
