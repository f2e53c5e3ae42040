"""Member care: birthday and holiday greetings and the free-inspection offer before a warranty ends (the
beat's sweep), and a customer's opt-out."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import chinese_calendar
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftercare.models import CareMessage, CareOptOut, Coverage
from aftercare.selectors import care_customers
from aftercare.services._common import inserted
from aftercare.services.policy import aftercare_settings_get
from leads.models import Customer
from renocrm.calendar import calendar_years
from renocrm.outbox.models import Notification
from renocrm.outbox.services import notification_send
from renocrm.sweeps.services import Sweep
from renocrm.tenancy.context import require_current_tenant

# The sweeper's name in renocrm.sweeps (its failures and backoff).
MEMBER_CARE_SWEEP = "member-care"

CARE_FROM_HOUR = 9
# The holidays greeted, by the name the chinesecalendar package gives them.
GREETED_HOLIDAYS = {
    chinese_calendar.Holiday.spring_festival.value: gettext_lazy("Happy Spring Festival"),
    chinese_calendar.Holiday.mid_autumn_festival.value: gettext_lazy("Happy Mid-Autumn Festival"),
    chinese_calendar.Holiday.national_day.value: gettext_lazy("Happy National Day"),
}
NATIONAL_DAY = chinese_calendar.Holiday.national_day.value


def _holiday_name(day: date) -> str | None:
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    return name if on_holiday else None


def holiday_starting(day: date) -> str | None:
    """The greeted holiday whose first day is ``day``, if any. Past the calendar data only National Day is
    known (1 October); the lunar holidays are not published that far ahead."""
    if day.year > calendar_years()[1]:
        return NATIONAL_DAY if (day.month, day.day) == (10, 1) else None
    name = _holiday_name(day)
    if name not in GREETED_HOLIDAYS:
        return None
    return name if _holiday_name(day - timedelta(days=1)) != name else None


def _birthday_filter(day: date) -> Q:
    match = Q(birthday__month=day.month, birthday__day=day.day)
    if (day.month, day.day) == (2, 28) and not _is_leap(day.year):
        match |= Q(birthday__month=2, birthday__day=29)
    return match


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


# Each kind of message as an approved SMS template (renocrm.outbox.sms_messages).
CARE_SMS = {
    CareMessage.Kind.BIRTHDAY: "aftercare.birthday_greeting",
    CareMessage.Kind.HOLIDAY: "aftercare.holiday_greeting",
    CareMessage.Kind.OFFER: "aftercare.inspection_offer",
}


def _care_send(tenant, customer: Customer, kind: str, occasion: str, body: str, params: dict | None = None) -> bool:
    if not customer.mobile:
        return False
    if inserted(CareMessage, customer=customer, kind=kind, occasion=occasion, body=body) is None:
        return False
    notification_send(
        channel=Notification.Channel.SMS,
        recipient=customer.mobile,
        body=body,
        idempotency_key=f"care:{customer.pk}:{occasion}",
        sms_template=CARE_SMS[kind],
        sms_params=params,
    )
    return True


def _not_yet(customers, occasion: str):
    """Those not yet sent the occasion's message, so a batch only takes messages still to send."""
    return customers.exclude(pk__in=CareMessage.objects.filter(occasion=occasion).values("customer_id"))


def _care_try(
    sweep: Sweep, tenant, customer: Customer, kind: str, occasion: str, body: str, params: dict | None = None
) -> int:
    """One message in its own savepoint; past the batch's size the rest wait for the next run."""
    if sweep.full or not customer.mobile:
        return 0
    key = f"{customer.pk}:{occasion}"
    return int(sweep.run(key, _care_send, tenant, customer, kind, occasion, body, params) or 0)


@transaction.atomic
def member_care_send(*, now: datetime | None = None, sweep: Sweep | None = None) -> int:
    """Birthday and holiday greetings and the free-inspection offer before a warranty ends, from 09:00 firm
    time, to customers with a project handed over who have not opted out. Each goes once per customer and
    occasion (``birthday:<year>``, ``holiday:<name>:<year>``, ``offer:coverage:<id>``): the CareMessage row's
    unique key decides. Returns how many messages were sent. One bounded batch, each message in its own
    savepoint: one that fails is recorded and retried later (``renocrm.sweeps``) without holding up the
    others."""
    tenant = require_current_tenant()
    sweep = sweep or Sweep(MEMBER_CARE_SWEEP)
    now = timezone.localtime(now or timezone.now(), tenant.zone)
    if now.hour < CARE_FROM_HOUR:
        return 0
    today = now.date()
    settings = aftercare_settings_get()
    sent = 0
    values = {"firm": tenant.name}
    with translation.override(tenant.language):
        if settings.birthday_greetings:
            birthdays = care_customers().filter(_birthday_filter(today))
            for customer in _not_yet(birthdays, f"birthday:{today.year}").order_by("pk"):
                params = {**values, "name": customer.name}
                body = _("%(firm)s wishes you, %(name)s, a very happy birthday!") % params
                occasion = f"birthday:{today.year}"
                sent += _care_try(sweep, tenant, customer, CareMessage.Kind.BIRTHDAY, occasion, body, params)
        holiday = holiday_starting(today) if settings.holiday_greetings else None
        if holiday:
            for customer in _not_yet(care_customers(), f"holiday:{holiday}:{today.year}").order_by("pk"):
                params = {**values, "greeting": str(GREETED_HOLIDAYS[holiday]), "name": customer.name}
                body = _("%(greeting)s, %(name)s! With best wishes from %(firm)s.") % params
                occasion = f"holiday:{holiday}:{today.year}"
                sent += _care_try(sweep, tenant, customer, CareMessage.Kind.HOLIDAY, occasion, body, params)
        days = settings.free_inspection_offer_days
        if days:
            offered = CareMessage.objects.filter(occasion__startswith="offer:coverage:").values_list(
                "occasion", flat=True
            )
            coverages = (
                Coverage.objects.filter(
                    ends_on__gte=today,
                    ends_on__lte=today + timedelta(days=days),
                    project__handed_over_on__isnull=False,
                    project__customer__in=care_customers(),
                )
                .select_related("project__customer")
                .order_by("pk")
            )
            done = set(offered)
            for coverage in coverages:
                occasion = f"offer:coverage:{coverage.pk}"
                if occasion in done:
                    continue
                customer = coverage.project.customer
                params = {
                    **values,
                    "name": customer.name,
                    "coverage": coverage.name,
                    "project": coverage.project.name,
                    "ends_on": coverage.ends_on.isoformat(),
                }
                body = (
                    _(
                        "%(firm)s: Dear %(name)s, the %(coverage)s warranty of %(project)s ends on %(ends_on)s. "
                        "Book a free inspection before then and we will check everything for you."
                    )
                    % params
                )
                sent += _care_try(sweep, tenant, customer, CareMessage.Kind.OFFER, occasion, body, params)
    return sent


@transaction.atomic
def care_opt_out_record(*, customer: Customer, reason: str = "") -> CareOptOut:
    """The customer wants no greetings or offers. Recording it twice keeps the first."""
    opt_out, _created = CareOptOut.objects.get_or_create(
        customer=customer, defaults={"reason": (reason or "").strip()[:200]}
    )
    return opt_out


@transaction.atomic
def care_opt_out_undo(*, customer: Customer) -> None:
    CareOptOut.objects.filter(customer=customer).delete()
