"""Warranty coverages: started from the firm's active rules when a project is handed over, or added and
edited by staff."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from aftercare.models import Area, Coverage
from aftercare.services.policy import coverage_rules_get, rule_applies
from contracts.models import Contract, Project, QuotationItem, TradeCategory
from renocrm.calendar import add_months


@transaction.atomic
def coverages_start(*, project: Project, contract: Contract | None, handed_over_on: date) -> list[Coverage]:
    """Start the project's warranties from the firm's active rules, counted from the handover date. Safe to
    run twice: one coverage per project and rule (a unique key)."""
    rules = [rule for rule in coverage_rules_get() if rule.is_active]
    lines: list[tuple[str, str]] = []
    if contract is not None:
        lines = list(
            QuotationItem.objects.filter(version_id=contract.quotation_version_id).values_list("category", "name")
        )
    Coverage.objects.bulk_create(
        [
            Coverage(
                project=project,
                rule=rule,
                name=rule.name,
                area=rule.area,
                trade=rule.trade,
                starts_on=handed_over_on,
                ends_on=add_months(handed_over_on, rule.months),
            )
            for rule in rules
            if rule_applies(rule, lines)
        ],
        ignore_conflicts=True,
    )
    return list(Coverage.objects.filter(project=project))


def on_project_handed_over(event) -> None:
    """``project.handed_over``, in the handover's own transaction: the warranties start with it or not at
    all, counted from the final acceptance (the handover date where a firm admin lifted that gate)."""
    payload = event.payload
    project = Project.objects.get(pk=payload["project_id"])
    contract = Contract.objects.filter(pk=payload.get("contract_id")).first()
    starts_on = date.fromisoformat(payload.get("accepted_on") or payload["handed_over_on"])
    coverages_start(project=project, contract=contract, handed_over_on=starts_on)


def _check_coverage(*, name: str, area: str, trade: str, starts_on: date | None, ends_on: date | None) -> dict:
    errors = {}
    if not (name or "").strip():
        errors["name"] = _("Name the coverage.")
    if area not in Area.values:
        errors["area"] = _("Choose the area it covers.")
    if trade and trade not in TradeCategory.values:
        errors["trade"] = _("Choose a trade from the list or leave it empty.")
    if starts_on is None:
        errors["starts_on"] = _("Give the day the warranty starts.")
    if ends_on is None:
        errors["ends_on"] = _("Give the day the warranty ends.")
    elif starts_on is not None and ends_on <= starts_on:
        errors["ends_on"] = _("The warranty must end after it starts.")
    return errors


@transaction.atomic
def coverage_create(
    *,
    project: Project,
    name: str,
    starts_on: date | None,
    area: str = Area.WHOLE_HOME,
    ends_on: date | None = None,
    months: int | None = None,
    trade: str = "",
    notes: str = "",
) -> Coverage:
    """A coverage staff add by hand (an extended warranty, a component with its own guarantee). The end is
    given, or counted in months from the start."""
    if ends_on is None and months and starts_on is not None:
        ends_on = add_months(starts_on, months)
    errors = _check_coverage(name=name, area=area, trade=trade or "", starts_on=starts_on, ends_on=ends_on)
    if errors:
        raise ValidationError(errors)
    return Coverage.objects.create(
        project=project,
        name=name.strip(),
        area=area,
        trade=trade or "",
        starts_on=starts_on,
        ends_on=ends_on,
        notes=(notes or "").strip(),
    )


@transaction.atomic
def coverage_update(*, coverage: Coverage, **fields) -> Coverage:
    """Edit a coverage (its name, area, trade, dates, notes). Repairs already opened keep their decision."""
    coverage = Coverage.objects.select_for_update().get(pk=coverage.pk)
    allowed = {"name", "area", "trade", "starts_on", "ends_on", "notes"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(_("These fields cannot be changed: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    for key, value in fields.items():
        setattr(coverage, key, value if value is not None or key in ("starts_on", "ends_on") else "")
    coverage.name, coverage.notes = (coverage.name or "").strip(), (coverage.notes or "").strip()
    coverage.trade = coverage.trade or ""
    errors = _check_coverage(
        name=coverage.name,
        area=coverage.area,
        trade=coverage.trade,
        starts_on=coverage.starts_on,
        ends_on=coverage.ends_on,
    )
    if errors:
        raise ValidationError(errors)
    coverage.save()
    return coverage
