"""The reminder before an instalment falls due (``ContractSettings.payment_reminder_days_before``, 3 days by
default, 0: none): the homeowner gets a text with the amount, the contract and the due day. An hourly sweep
from 09:00 firm time; each instalment is reminded once per due day (the key on the message), so a sweep run
twice, or two at once, sends nothing twice, and a due day that moves is reminded of again."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from contracts.models import Instalment
from contracts.services.settings import contract_settings_get
from renocrm.outbox.models import Notification
from renocrm.outbox.services import notifications_send_many
from renocrm.sweeps.services import Sweep
from renocrm.tenancy.context import require_current_tenant

# The sweeper's name in renocrm.sweeps (its failures and backoff).
PAYMENT_REMINDER_SWEEP = "payment-reminders"
# Texts to homeowners go out from this hour, firm time.
REMIND_FROM_HOUR = 9


def reminder_key(instalment: Instalment) -> str:
    return f"payment-reminder:{instalment.pk}:{instalment.due_on.isoformat()}"


def payment_reminder_days() -> int:
    return contract_settings_get().payment_reminder_days_before


def payment_reminders_send(*, now: datetime | None = None, sweep: Sweep | None = None) -> int:
    """Remind the homeowner of each unpaid instalment falling due from today to the end of the firm's
    reminder days (today included: a beat that was down catches up; an instalment already overdue is not
    reminded of). One bounded batch of those still owed a reminder, sent together (one look-up of the keys,
    one INSERT); should that fail, one by one (``Sweep.run_together``). Returns how many were reminded now."""
    now = now or timezone.now()
    sweep = sweep or Sweep(PAYMENT_REMINDER_SWEEP)
    days = payment_reminder_days()
    local = timezone.localtime(now, require_current_tenant().zone)
    if not days or local.hour < REMIND_FROM_HOUR:
        return 0
    today = local.date()
    falling_due = Instalment.objects.filter(
        paid_on__isnull=True,
        due_on__gte=today,
        due_on__lte=today + timedelta(days=days),
        contract__project__customer__anonymised_at__isnull=True,
    ).exclude(contract__project__customer__mobile="")
    if sweep.held:
        falling_due = falling_due.exclude(pk__in=[int(key) for key in sweep.held])
    # The window is a few days of one firm's instalments: read whole, so those reminded already never fill a batch.
    candidates = list(falling_due.only("pk", "due_on").order_by("due_on", "id"))
    sent = set(
        Notification.objects.filter(idempotency_key__in=[reminder_key(i) for i in candidates]).values_list(
            "idempotency_key", flat=True
        )
    )
    owed = [i.pk for i in candidates if reminder_key(i) not in sent][: sweep.batch_size]
    if not owed:
        return 0
    # Locked, and those another run holds skipped: that run reminds them. The due day is read again under the
    # lock, so the key names the day the text gives.
    due = list(
        Instalment.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(pk__in=owed, paid_on__isnull=True, due_on__gte=today)
        .select_related("contract__project__customer")
        .order_by("due_on", "id")
    )
    return sweep.run_together(due, _remind)


def _remind(instalments: list[Instalment]) -> int:
    firm = require_current_tenant()
    texts = []
    with translation.override(firm.language):
        for instalment in instalments:
            customer = instalment.contract.project.customer
            values = {
                "firm": firm.name,
                "name": customer.name,
                "kind": instalment.get_kind_display(),
                "amount": number_format(instalment.amount, 2, force_grouping=True),
                "contract": instalment.contract.number,
                "day": instalment.due_on.isoformat(),
                "phone": firm.phone,
            }
            texts.append(
                {
                    "channel": Notification.Channel.SMS,
                    "recipient": customer.mobile,
                    "body": _homeowner_text(values),
                    "idempotency_key": reminder_key(instalment),
                    "sms_template": "contracts.payment_reminder",
                    "sms_params": {
                        "firm": values["firm"],
                        "name": values["name"],
                        "kind": values["kind"],
                        "amount": values["amount"],
                        "contract": values["contract"],
                        "day": values["day"],
                        "phone": values["phone"],
                    },
                }
            )
    notifications_send_many(texts)
    return len(instalments)


def _homeowner_text(values: dict) -> str:
    body = (
        _("%(firm)s: a reminder that the %(kind)s of ¥%(amount)s under contract %(contract)s falls due on %(day)s.")
        % values
    )
    if values["phone"]:
        body += " " + _("Questions: %(phone)s") % values
    return body
