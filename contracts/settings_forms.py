"""The form of the firm's contract settings page, its fields in the page's sections."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from .services.settings import DAY_LIMITS


def _percent(label, help_text=""):
    return forms.DecimalField(
        label=label,
        help_text=help_text,
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        widget=forms.NumberInput(attrs={"inputmode": "decimal"}),
    )


def _days(name, label, help_text=""):
    return forms.IntegerField(
        label=label,
        help_text=help_text,
        min_value=0,
        max_value=DAY_LIMITS[name],
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class ContractSettingsForm(forms.Form):
    deposit_percent = _percent(_("Deposit, share of the contract amount (%)"), _("Due on signing."))
    midterm_percent = _percent(
        _("Mid-term payment, share of the contract amount (%)"), _("Due at the mid-term inspection.")
    )
    final_percent = _percent(
        _("Final payment, share of the contract amount (%)"),
        _("Due after final acceptance; it takes the cents left by rounding."),
    )
    final_due_days = _days(
        "final_due_days", _("Final payment due, days after acceptance"), _("0: on the day of acceptance.")
    )
    change_order_threshold_percent = _percent(
        _("New quotation above this share of the contract amount (%)"),
        _(
            "When the change orders together (additions and removals both count) exceed this share of the signed "
            "amount, the customer signs a new quotation version before work goes on."
        ),
    )
    change_order_approval_percent = _percent(
        _("Admin approval of a change order above this share of the contract amount (%)"),
        _("A change order whose net change, up or down, is larger is approved by a firm admin who did not write it."),
    )
    management_fee_percent = _percent(
        _("Management fee, %"), _("A new quotation version starts with it; the quoter may change it on the version.")
    )
    tax_percent = _percent(
        _("Tax, %"), _("A new quotation version starts with it; the quoter may change it on the version.")
    )
    discount_approval_percent = _percent(
        _("Discounts needing approval above this share of the lines (%)"),
        _(
            "Discounts (on lines and on the total) larger than this share need a manager who did not write the "
            "version to approve them before it is sent."
        ),
    )
    measurement_reminder_days_before = _days(
        "measurement_reminder_days_before",
        _("Measurement reminder, days before"),
        _(
            "The homeowner gets a text and the designer a notice this many days before a measurement appointment "
            "(from 09:00 firm time); 0 sends none."
        ),
    )
    payment_reminder_days_before = _days(
        "payment_reminder_days_before",
        _("Payment reminder, days before due"),
        _(
            "The homeowner gets a text this many days before an instalment falls due (from 09:00 firm time); "
            "0 sends none."
        ),
    )

    # (key, heading, introduction, fields), in the page's order.
    SECTIONS = (
        (
            "payments",
            _("Payment schedule"),
            _(
                "The split a new contract's payment schedule starts from; the three shares add up to 100 %. "
                "The schedule of each contract can still be changed when it is signed."
            ),
            ("deposit_percent", "midterm_percent", "final_percent", "final_due_days"),
        ),
        (
            "change-orders",
            _("Change orders"),
            "",
            ("change_order_threshold_percent", "change_order_approval_percent"),
        ),
        (
            "quotations",
            _("Quotations"),
            _("Defaults of a new quotation version; versions already made keep theirs."),
            ("management_fee_percent", "tax_percent", "discount_approval_percent"),
        ),
        (
            "reminders",
            _("Reminders by SMS"),
            "",
            ("measurement_reminder_days_before", "payment_reminder_days_before"),
        ),
    )

    def sections(self) -> list[dict]:
        return [
            {"key": key, "title": title, "intro": intro, "fields": [self[name] for name in names]}
            for key, title, intro, names in self.SECTIONS
        ]
