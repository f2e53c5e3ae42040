"""Receivables: the instalments still to be received, aged by the days they are past their due day, and the
payments received. Reads only. An instalment is due once it has a due day and received once it has a paid day;
until then its whole amount is outstanding.

The days are the firm's calendar days: ``today`` is the firm-local date (``renocrm.tenancy.time.firm_today``),
so an instalment due yesterday in Shanghai is one day overdue from midnight in Shanghai, whatever the server's
clock. Construction (which names each project's manager) comes later in the lifecycle: filters by project
manager arrive here as a set of project ids."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from leads.selectors import customer_match

from .models import Instalment

# Aging of overdue instalments: (key, label, fewest days overdue, most days overdue or None). Due today is not
# overdue yet, so "0–30" starts at one day.
AGING = (
    ("0-30", _("0–30 days overdue"), 1, 30),
    ("31-60", _("31–60 days overdue"), 31, 60),
    ("61-90", _("61–90 days overdue"), 61, 90),
    ("over-90", _("90+ days overdue"), 91, None),
)
AGING_KEYS = tuple(key for key, *_rest in AGING)
# The same under a heading that says "days overdue" (a table's columns).
AGING_SHORT = (("0-30", "0–30"), ("31-60", "31–60"), ("61-90", "61–90"), ("over-90", "90+"))
OVERDUE, DUE, LATER, SCHEDULED = "overdue", "due", "later", "scheduled"
# "Falling due": from today to this many days ahead (the finance dashboard's window too).
DUE_WITHIN_DAYS = 30
BUCKET_LABELS = {
    OVERDUE: _("Overdue"),
    **{key: label for key, label, *_rest in AGING},
    DUE: lazy(lambda: gettext("Due within %(days)s days") % {"days": DUE_WITHIN_DAYS}, str)(),
    LATER: _("Due later"),
    SCHEDULED: _("No due date yet"),
}
# Every bucket a filter takes, in the order pages show them. "overdue" is the four aging buckets together; the
# others do not overlap, and together they are every outstanding instalment.
BUCKETS = tuple(BUCKET_LABELS)
PARTS = (*AGING_KEYS, DUE, LATER, SCHEDULED)
ZERO = Decimal("0.00")


def bucket_q(bucket: str, *, today: date) -> Q:
    """The outstanding instalments in ``bucket`` as of the firm-local ``today``."""
    if bucket == OVERDUE:
        return Q(due_on__lt=today)
    if bucket == DUE:
        return Q(due_on__gte=today, due_on__lte=today + timedelta(days=DUE_WITHIN_DAYS))
    if bucket == LATER:
        return Q(due_on__gt=today + timedelta(days=DUE_WITHIN_DAYS))
    if bucket == SCHEDULED:
        return Q(due_on__isnull=True)
    for key, _label, fewest, most in AGING:
        if key == bucket:
            q = Q(due_on__lte=today - timedelta(days=fewest))
            return q & Q(due_on__gte=today - timedelta(days=most)) if most is not None else q
    raise ValueError(bucket)


def days_overdue(due_on: date | None, *, today: date) -> int:
    """Whole firm-local days past the due day; 0 when not overdue (or not due yet)."""
    return max((today - due_on).days, 0) if due_on else 0


def bucket_of(due_on: date | None, *, today: date) -> str:
    """The one bucket of ``PARTS`` an outstanding instalment due on ``due_on`` falls in."""
    if due_on is None:
        return SCHEDULED
    late = (today - due_on).days
    if late <= 0:
        return DUE if -late <= DUE_WITHIN_DAYS else LATER
    return next(key for key, _label, fewest, most in AGING if late >= fewest and (most is None or late <= most))


def _narrowed(
    instalments: QuerySet, *, designer=None, project=None, projects=None, q: str = "", full_contacts: bool = False
) -> QuerySet:
    if designer is not None:
        instalments = instalments.filter(contract__project__lead__designer=designer)
    if project is not None:
        instalments = instalments.filter(contract__project=project)
    if projects is not None:
        instalments = instalments.filter(contract__project__in=projects)
    if q:
        instalments = instalments.filter(
            customer_match(q, "contract__project__customer__", full_contacts=full_contacts)
            | Q(contract__number__icontains=q)
        )
    return instalments


def instalments_outstanding(
    *,
    designer=None,
    project=None,
    projects=None,
    q: str = "",
    full_contacts: bool = False,
    instalments: QuerySet | None = None,
) -> QuerySet:
    """Instalments not received yet, with their contract, project, customer and the lead's designer.
    ``designer``: the lead's designer; ``project``: one project; ``projects``: project ids (a list or a
    subquery, e.g. a project manager's); ``q``: the customer's name or mobile, or the contract number;
    ``instalments``: where to start from (the firm's instalments by default)."""
    instalments = Instalment.objects.all() if instalments is None else instalments
    instalments = instalments.filter(paid_on__isnull=True).select_related(
        "contract__project__customer", "contract__project__lead__designer"
    )
    return _narrowed(
        instalments, designer=designer, project=project, projects=projects, q=q, full_contacts=full_contacts
    )


# Aggregate aliases by position: bucket keys hold dashes, which a column alias should not.
MEASURED = (*BUCKETS, "all")


def _bucket_sums(today: date) -> dict:
    aggregates = {}
    for n, bucket in enumerate(MEASURED):
        q = bucket_q(bucket, today=today) if bucket != "all" else None
        aggregates[f"b{n}_count"] = Count("pk", filter=q)
        aggregates[f"b{n}_amount"] = Coalesce(Sum("amount", filter=q), Value(ZERO), output_field=DecimalField())
    return aggregates


def _split(row: dict) -> dict[str, dict]:
    return {bucket: {"count": row[f"b{n}_count"], "amount": row[f"b{n}_amount"]} for n, bucket in enumerate(MEASURED)}


def outstanding_totals(instalments: QuerySet, *, today: date) -> dict[str, dict]:
    """{bucket: {"count", "amount"}} for every bucket of ``BUCKETS`` and "all", over ``instalments`` (from
    ``instalments_outstanding``). One query; the amounts are exact to the cent."""
    return _split(instalments.order_by().aggregate(**_bucket_sums(today)))


# Grouping keys: what ``outstanding_by`` groups on.
BY_PROJECT = "contract__project"
BY_DESIGNER = "contract__project__lead__designer"


def outstanding_by(instalments: QuerySet, *, today: date, by: str) -> list[dict]:
    """Per ``by`` (``BY_PROJECT`` or ``BY_DESIGNER``): {"key": the id or None, "totals": as
    ``outstanding_totals``}; projects come with their name and contract number. One query."""
    fields = [by]
    if by == BY_PROJECT:
        fields += ["contract__project__name", "contract__number"]
    rows = instalments.order_by().values(*fields).annotate(**_bucket_sums(today))
    return [
        {
            "key": row[by],
            "name": row.get("contract__project__name", ""),
            "number": row.get("contract__number", ""),
            "totals": _split(row),
        }
        for row in rows
    ]


def instalments_paid(
    *,
    paid_from: date | None = None,
    paid_to: date | None = None,
    designer=None,
    projects=None,
    kind: str = "",
    recorded_by=None,
) -> QuerySet:
    """Instalments received (the payment register), with their contract, project, customer, the lead's
    designer and who recorded them; ``paid_from`` / ``paid_to`` are firm-local days, inclusive."""
    paid = Instalment.objects.filter(paid_on__isnull=False).select_related(
        "contract__project__customer", "contract__project__lead__designer", "recorded_by"
    )
    if paid_from:
        paid = paid.filter(paid_on__gte=paid_from)
    if paid_to:
        paid = paid.filter(paid_on__lte=paid_to)
    if kind:
        paid = paid.filter(kind=kind)
    if recorded_by is not None:
        paid = paid.filter(recorded_by=recorded_by)
    return _narrowed(paid, designer=designer, projects=projects)


def paid_totals(paid: QuerySet) -> dict:
    """How many payments, their scheduled amount and the amount received (the scheduled one where the
    payment did not say). One query."""
    # Aliases apart from the columns' names: an aggregate may not take a model field's name.
    found = paid.order_by().aggregate(
        n=Count("pk"),
        due=Coalesce(Sum("amount"), Value(ZERO), output_field=DecimalField()),
        got=Coalesce(Sum(Coalesce("paid_amount", F("amount"))), Value(ZERO), output_field=DecimalField()),
    )
    return {"count": found["n"], "amount": found["due"], "received": found["got"]}
