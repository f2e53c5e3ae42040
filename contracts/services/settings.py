"""The firm's contract settings (``ContractSettings``, one row a firm): the default payment split, the
change-order thresholds, the defaults of a new quotation version, the discount needing approval and the SMS
reminders. A firm that never saved them works with the model's defaults."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator
from django.db import transaction
from django.utils.translation import gettext as _

from contracts.models import ContractSettings

SPLIT_FIELDS = ("deposit_percent", "midterm_percent", "final_percent")
PERCENT_FIELDS = (
    *SPLIT_FIELDS,
    "change_order_threshold_percent",
    "change_order_approval_percent",
    "management_fee_percent",
    "tax_percent",
    "discount_approval_percent",
)
DAY_FIELDS = ("final_due_days", "measurement_reminder_days_before", "payment_reminder_days_before")
SETTINGS_FIELDS = (*PERCENT_FIELDS, *DAY_FIELDS)
# The final payment falls due a few days after acceptance (3 by default); more than a quarter is a typo.
FINAL_DUE_MAX_DAYS = 90
HUNDRED = Decimal("100")


def _max_days(name: str) -> int:
    if name == "final_due_days":
        return FINAL_DUE_MAX_DAYS
    validators = ContractSettings._meta.get_field(name).validators
    return min(v.limit_value for v in validators if isinstance(v, MaxValueValidator))


DAY_LIMITS = {name: _max_days(name) for name in DAY_FIELDS}


def contract_settings_get() -> ContractSettings:
    """The firm's settings as they apply now: its row, or an unsaved one with the model's defaults. The one
    reader of them; reading writes nothing (``contract_settings_update`` writes)."""
    return ContractSettings.objects.first() or ContractSettings()


def _percent(value) -> str:
    return format(Decimal(value).normalize(), "f")


def contract_settings_check(**values) -> None:
    """The rules of the settings beyond each field's type: every share from 0 to 100, the days within their
    limits, and the deposit, mid-term and final shares adding up to 100 (one error naming all three). A rule
    whose values are not all in ``values`` is skipped; every broken rule is raised at once. It only reads."""
    errors: dict[str, list[str]] = {}
    numbers: dict[str, Decimal] = {}
    for name in PERCENT_FIELDS:
        if name not in values:
            continue
        try:
            number = Decimal(str(values[name]))
        except (InvalidOperation, ValueError):
            number = None
        if number is None or not number.is_finite() or not 0 <= number <= HUNDRED:
            errors[name] = [_("Enter a percentage from 0 to 100.")]
        else:
            numbers[name] = number
    for name, most in DAY_LIMITS.items():
        if name not in values:
            continue
        value = values[name]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= most:
            errors[name] = [_("Enter from 0 to %(max)s days.") % {"max": most}]
    if all(name in numbers for name in SPLIT_FIELDS):
        total = sum((numbers[name] for name in SPLIT_FIELDS), Decimal("0"))
        if total != HUNDRED:
            errors[NON_FIELD_ERRORS] = [
                _(
                    "The deposit (%(deposit)s %%), mid-term payment (%(midterm)s %%) and final payment (%(final)s %%) "
                    "add up to %(total)s %%; they must add up to 100 %%."
                )
                % {
                    "deposit": _percent(numbers["deposit_percent"]),
                    "midterm": _percent(numbers["midterm_percent"]),
                    "final": _percent(numbers["final_percent"]),
                    "total": _percent(total),
                }
            ]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def contract_settings_update(**fields) -> ContractSettings:
    """Change the firm's contract settings (any of ``SETTINGS_FIELDS``; the others keep their value). Every
    refusal at once, on its field; the split's on the form as a whole. The change is in the audit trail
    through the table's trigger. New values apply to what is made from now on (a new contract's schedule, a
    new quotation version, the next reminder sweep), never to what exists."""
    unknown = set(fields) - set(SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"contract_settings_update() got unexpected fields: {', '.join(sorted(unknown))}")
    # get_or_create survives two first saves at once (the second finds the first's row); the lock then makes
    # the second wait, so neither overwrites a row it did not read.
    row, _created = ContractSettings.objects.get_or_create()
    settings = ContractSettings.objects.select_for_update().get(pk=row.pk)
    for name, value in fields.items():
        setattr(settings, name, value)
    errors: dict[str, list[str]] = {}
    try:
        settings.clean_fields(exclude=["tenant"])
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        contract_settings_check(**{name: getattr(settings, name) for name in SETTINGS_FIELDS if name not in errors})
    except ValidationError as error:
        for name, texts in error.message_dict.items():
            errors.setdefault(name, []).extend(texts)
    if errors:
        raise ValidationError(errors)
    settings.save(update_fields=list(SETTINGS_FIELDS))
    return settings
