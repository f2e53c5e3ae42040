"""The firm's aftercare policy: its settings (repair SLA hours, warranty-reminder lead times, member care)
and its warranty coverage rules, with which of them a project's signed quotation calls for."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftercare.models import AftercareSettings, Area, CoverageRule
from contracts.models import TradeCategory
from renocrm.tenancy.defaults import firm_copy_get

# Settings ----------------------------------------------------------------------------------------------------


def aftercare_settings_get() -> AftercareSettings:
    """The firm's aftercare settings, created with the defaults the first time they are needed."""
    found, _created = AftercareSettings.objects.get_or_create()
    return found


MAX_REMINDER_DAYS = 365


@transaction.atomic
def aftercare_settings_update(
    *,
    repair_response_hours: int,
    repair_on_site_hours: int,
    warranty_reminder_days: list[int],
    birthday_greetings: bool,
    holiday_greetings: bool,
    free_inspection_offer_days: int,
) -> AftercareSettings:
    errors = {}
    if repair_response_hours < 1:
        errors["repair_response_hours"] = _("Give at least one hour.")
    if repair_on_site_hours < 1:
        errors["repair_on_site_hours"] = _("Give at least one hour.")
    elif repair_on_site_hours < repair_response_hours:
        errors["repair_on_site_hours"] = _("Being on site cannot come before the first response.")
    days = sorted(set(warranty_reminder_days), reverse=True)
    if len(days) > 5:
        errors["warranty_reminder_days"] = _("At most five reminders before a warranty ends.")
    elif any(d < 1 or d > MAX_REMINDER_DAYS for d in days):
        errors["warranty_reminder_days"] = _("Each reminder is between 1 and 365 days before the end.")
    if free_inspection_offer_days > MAX_REMINDER_DAYS:
        errors["free_inspection_offer_days"] = _("At most 365 days before the end (0 turns the offer off).")
    if errors:
        raise ValidationError(errors)
    found = AftercareSettings.objects.select_for_update().filter(pk=aftercare_settings_get().pk).get()
    found.repair_response_hours = repair_response_hours
    found.repair_on_site_hours = repair_on_site_hours
    found.warranty_reminder_days = days
    found.birthday_greetings = birthday_greetings
    found.holiday_greetings = holiday_greetings
    found.free_inspection_offer_days = free_inspection_offer_days
    found.save()
    return found


# The firm's warranty policy -----------------------------------------------------------------------------------

# (name, area, trade, keywords, months): the policy a firm starts with, in its own language from then on.
DEFAULT_RULES = [
    (gettext_lazy("General works"), Area.WHOLE_HOME, "", "", 24),
    (gettext_lazy("Kitchen waterproofing"), Area.KITCHEN, TradeCategory.WATERPROOFING, "防水, waterproof", 60),
    (gettext_lazy("Bathroom waterproofing"), Area.BATHROOM, TradeCategory.WATERPROOFING, "防水, waterproof", 60),
]


def coverage_rules_get() -> list[CoverageRule]:
    """The firm's coverage rules, seeded from the default policy the first time they are needed."""
    return firm_copy_get(
        CoverageRule,
        default=lambda: [
            CoverageRule(position=n, name=str(name), area=area, trade=trade, keywords=keywords, months=months)
            for n, (name, area, trade, keywords, months) in enumerate(DEFAULT_RULES, start=1)
        ],
    )


def _keywords(text: str) -> list[str]:
    return [word.strip().lower() for word in re.split(r"[,，、;；]", text or "") if word.strip()]


@transaction.atomic
def coverage_rules_save(*, rows: list[dict]) -> list[CoverageRule]:
    """Save the firm's rules in the order given: a row with an ``id`` edits that rule, one without adds a
    rule. Rules are never deleted (coverages started from them point at them): a firm turns one off.
    Coverages already started keep their dates."""
    existing = {rule.pk: rule for rule in CoverageRule.objects.select_for_update()}
    errors = []
    cleaned = []
    for row in rows:
        name = str(row.get("name") or "").strip()
        area, trade = row.get("area") or Area.WHOLE_HOME, row.get("trade") or ""
        months = row.get("months")
        if not name:
            errors.append(_("Name each rule."))
        if area not in Area.values:
            errors.append(_("Choose the area of each rule."))
        if trade and trade not in TradeCategory.values:
            errors.append(_("Choose a trade from the list or leave it empty."))
        if not isinstance(months, int) or months < 1 or months > 600:
            errors.append(_("A warranty lasts between 1 and 600 months."))
        pk = row.get("id")
        if pk and pk not in existing:
            errors.append(_("One of the rules no longer exists; reload the page."))
        cleaned.append((pk, name, area, trade, ", ".join(_keywords(row.get("keywords", ""))), months, row))
    if errors:
        raise ValidationError(sorted(set(errors), key=errors.index))
    if not any(row.get("is_active", True) for *_rest, row in cleaned) and not any(
        rule.is_active for pk, rule in existing.items() if pk not in {c[0] for c in cleaned}
    ):
        raise ValidationError(_("Keep at least one rule active."))
    saved, seen = [], set()
    # Positions are renumbered in the order shown; the unique key on positions is checked at commit.
    position = 0
    for pk, name, area, trade, keywords, months, row in cleaned:
        position += 1
        rule = existing[pk] if pk else CoverageRule()
        rule.position, rule.name, rule.area, rule.trade = position, name, area, trade
        rule.keywords, rule.months, rule.is_active = keywords, months, bool(row.get("is_active", True))
        rule.save()
        seen.add(rule.pk)
        saved.append(rule)
    for pk, rule in sorted(existing.items(), key=lambda item: (item[1].position, item[0])):
        if pk not in seen:
            position += 1
            rule.position = position
            rule.save(update_fields=["position"])
            saved.append(rule)
    return saved


# Which rules a project's quotation calls for ------------------------------------------------------------------

# Words by which a quotation line names the room it is about; 厨卫 is the kitchen and the bathroom together.
AREA_WORDS = {
    Area.KITCHEN: ("厨房", "厨卫", "kitchen"),
    Area.BATHROOM: ("卫生间", "浴室", "厨卫", "卫浴", "bathroom", "toilet"),
    Area.BALCONY: ("阳台", "balcony"),
    Area.LIVING_ROOM: ("客厅", "living"),
    Area.BEDROOM: ("卧室", "bedroom"),
}
ALL_AREA_WORDS = tuple({word for words in AREA_WORDS.values() for word in words})


def _names_any(text: str, words) -> bool:
    return any(word in text for word in words)


def rule_applies(rule: CoverageRule, lines: list[tuple[str, str]]) -> bool:
    """Whether a rule covers a project whose signed quotation has these (category, item name) lines."""
    keywords = _keywords(rule.keywords)
    if not rule.trade and not keywords:
        return True
    area_words = AREA_WORDS.get(rule.area, ())
    for category, name in lines:
        text = name.lower()
        if not ((rule.trade and category == rule.trade) or _names_any(text, keywords)):
            continue
        if rule.area == Area.WHOLE_HOME or _names_any(text, area_words) or not _names_any(text, ALL_AREA_WORDS):
            return True
    return False
