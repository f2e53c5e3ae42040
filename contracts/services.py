"""Writes for design agreements, quotations, contracts, payments and change orders. Each public function
is one transaction; amounts are Decimal rounded to the cent, never float."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from leads.models import Lead
from leads.selectors import DESIGNER_ROLES
from leads.services import lead_mark_won
from renocrm.accounts.staff import require_staff_role
from renocrm.outbox.services import event_emit
from renocrm.tenancy.time import firm_day_start, firm_today

from .models import (
    CENT,
    ChangeOrder,
    ChangeOrderLine,
    Contract,
    ContractSettings,
    DesignAgreement,
    Instalment,
    MainMaterialLine,
    MeasurementAppointment,
    Project,
    Quotation,
    QuotationItem,
    QuotationVersion,
)

# The money columns hold 14 digits, 2 of them after the point.
MONEY_LIMIT = Decimal("1000000000000")


def money(value, *, field: str | None = None) -> Decimal:
    """``value`` rounded to the cent; refused (on ``field`` when named) when no money column can hold it,
    so an absurd quantity × price is the user's field error rather than a database error."""
    value = Decimal(value)
    if not value.is_finite() or abs(value) >= MONEY_LIMIT:
        message = _("%(amount)s is more than an amount can be (under 1,000,000,000,000).") % {
            "amount": f"{value:,.2f}" if value.is_finite() else value
        }
        raise ValidationError({field: [message]} if field else message)
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def line_amount(quantity, unit_price, *, field: str | None = None) -> Decimal:
    return money(Decimal(quantity) * Decimal(unit_price), field=field)


def contract_settings_get() -> ContractSettings:
    settings, _ = ContractSettings.objects.get_or_create()
    return settings


# Design agreement and measurement -------------------------------------------------------------------


@transaction.atomic
def design_agreement_create(*, lead: Lead, fee: Decimal, signed_on: date, notes: str = "") -> DesignAgreement:
    return DesignAgreement.objects.create(lead=lead, fee=money(fee), signed_on=signed_on, notes=notes)


@transaction.atomic
def design_agreement_mark_paid(*, agreement: DesignAgreement, paid_on: date) -> DesignAgreement:
    agreement.paid, agreement.paid_on = True, paid_on
    agreement.save(update_fields=["paid", "paid_on"])
    return agreement


@transaction.atomic
def measurement_appointment_schedule(
    *, lead: Lead, scheduled_at: datetime, designer=None, notes: str = ""
) -> MeasurementAppointment:
    """Book the site survey. Any time from the start of the firm's today on: a visit agreed this morning is
    still entered after the fact, an earlier day is a mistake."""
    require_staff_role(designer, roles=DESIGNER_ROLES, field="designer")
    if scheduled_at < firm_day_start(firm_today()):
        raise ValidationError({"scheduled_at": _("The appointment cannot be on a day that has passed.")})
    appointment = MeasurementAppointment.objects.create(
        lead=lead, scheduled_at=scheduled_at, designer=designer, notes=notes
    )
    event_emit(
        event_type="measurement.scheduled",
        payload={
            "id": appointment.pk,
            "lead_id": lead.pk,
            "scheduled_at": appointment.scheduled_at.isoformat(),
            "designer_id": designer.pk if designer else None,
        },
    )
    return appointment


# Quotations ---------------------------------------------------------------------------------------------


def _locked_version(version: QuotationVersion) -> QuotationVersion:
    return QuotationVersion.objects.select_for_update().get(pk=version.pk)


@transaction.atomic
def quotation_create(*, lead: Lead, title: str, by=None, items: list[dict] | None = None) -> Quotation:
    if lead.status in (Lead.Status.WON, Lead.Status.LOST):
        raise ValidationError({"lead": _("This lead is closed; reopen it before quoting.")})
    quotation = Quotation.objects.create(lead=lead, title=title, created_by=by)
    version = QuotationVersion.objects.create(quotation=quotation, number=1)
    if items:
        quotation_version_set_items(version=version, items=items)
    return quotation


@transaction.atomic
def quotation_version_set_items(*, version: QuotationVersion, items: list[dict]) -> QuotationVersion:
    """Replace a draft version's line items and recompute its total."""
    version = _locked_version(version)
    if not version.is_editable:
        raise ValidationError(
            _("Version %(number)s has been sent and can no longer change; start a new version.")
            % {"number": version.number}
        )
    version.items.all().delete()
    rows = []
    for position, item in enumerate(items, start=1):
        quantity, unit_price = Decimal(item["quantity"]), Decimal(item["unit_price"])
        if quantity < 0 or unit_price < 0:
            raise ValidationError(_("Quantities and unit prices cannot be negative."))
        rows.append(
            QuotationItem(
                version=version,
                position=position,
                category=item["category"],
                name=item["name"],
                unit=item["unit"],
                quantity=quantity,
                unit_price=unit_price,
                brand_model=item.get("brand_model", ""),
                amount=line_amount(quantity, unit_price, field="items"),
            )
        )
    QuotationItem.objects.bulk_create(rows)
    version.total = money(sum((row.amount for row in rows), Decimal("0")), field="items")
    version.save(update_fields=["total"])
    return version


@transaction.atomic
def quotation_version_send(*, version: QuotationVersion) -> QuotationVersion:
    version = _locked_version(version)
    if version.status != QuotationVersion.Status.DRAFT:
        raise ValidationError(_("Only a draft version can be sent."))
    if not version.items.exists():
        raise ValidationError(_("A version needs at least one line item before it is sent."))
    version.status, version.sent_at = QuotationVersion.Status.SENT, timezone.now()
    version.save(update_fields=["status", "sent_at"])
    return version


@transaction.atomic
def quotation_version_copy(*, version: QuotationVersion, note: str = "") -> QuotationVersion:
    """A new draft version that starts as a copy of ``version``."""
    quotation = Quotation.objects.select_for_update().get(pk=version.quotation_id)
    number = (quotation.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    copy = QuotationVersion.objects.create(
        quotation=quotation, number=number, based_on=version, note=note, total=version.total
    )
    QuotationItem.objects.bulk_create(
        [
            QuotationItem(
                version=copy,
                position=item.position,
                category=item.category,
                name=item.name,
                unit=item.unit,
                quantity=item.quantity,
                unit_price=item.unit_price,
                brand_model=item.brand_model,
                amount=item.amount,
            )
            for item in version.items.all()
        ]
    )
    return copy


@transaction.atomic
def quotation_version_accept(
    *, version: QuotationVersion, via: str, by=None, name: str = "", ip: str | None = None, signature: str = ""
) -> QuotationVersion:
    """Record the customer's acceptance. A quotation has one accepted version at a time: accepting a later
    version (a re-quote for a change order) supersedes the earlier one."""
    version = _locked_version(version)
    if version.status != QuotationVersion.Status.SENT:
        raise ValidationError(_("Only a version that has been sent to the customer can be accepted."))
    if via == QuotationVersion.AcceptedVia.HOMEOWNER_LINK and not signature:
        raise ValidationError({"signature": _("Please sign before accepting.")})
    version.quotation.versions.filter(status=QuotationVersion.Status.ACCEPTED).update(
        status=QuotationVersion.Status.SUPERSEDED
    )
    version.status = QuotationVersion.Status.ACCEPTED
    version.accepted_at, version.accepted_via, version.accepted_by = timezone.now(), via, by
    version.accepted_name, version.accepted_ip, version.signature = name, ip, signature
    version.save()
    event_emit(
        event_type="quotation.accepted",
        payload={
            "quotation_id": version.quotation_id,
            "version_id": version.pk,
            "number": version.number,
            "total": str(version.total),
        },
    )
    return version


# Contracts and payments ------------------------------------------------------------------------------


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
) -> Contract:
    """Sign the contract for an accepted quotation version: wins the lead, opens the project, sets the
    payment schedule (whose amounts must add up to the contract amount) and emits ``contract.signed``."""
    version = _locked_version(version)
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
    if any(i["trigger"] == Instalment.Trigger.PHASE_ACCEPTANCE and not i.get("trigger_phase") for i in schedule):
        raise ValidationError({"instalments": _("Name the phase whose acceptance makes the instalment due.")})
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
        name=str(lead.property.address if lead.property_id else lead.customer.name),
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
            _emit_payment_due(instalment)
    return contract


def _emit_payment_due(instalment: Instalment) -> None:
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
        _emit_payment_due(instalment)
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


# Change orders -------------------------------------------------------------------------------------------


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


@transaction.atomic
def change_order_approve(*, order: ChangeOrder, by=None) -> ChangeOrder:
    order = ChangeOrder.objects.select_for_update().select_related("contract").get(pk=order.pk)
    if order.status != ChangeOrder.Status.DRAFT:
        raise ValidationError(_("Only a draft change order can be approved."))
    contract = Contract.objects.select_for_update().get(pk=order.contract_id)
    order.contract = contract
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
