"""Reads for callbacks: the customer-service work queue and its counts, one callback with its history, and
the callback and satisfaction reports. Each answers in a fixed number of queries, aggregated in the
database."""

from __future__ import annotations

from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.db.models import Avg, Count, Max, Prefetch, Q
from django.db.models.functions import Trim, TruncMonth
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from callbacks.models import (
    Callback,
    CallbackAttempt,
    CallbackSettings,
    FeedbackFollowUp,
    Satisfaction,
    Survey,
    SurveyDefect,
    SurveyStaff,
)
from contracts.models import TradeCategory
from renocrm.accounts.roles import Role
from renocrm.calendar import add_months
from renocrm.paging import PAGE_SIZE, keyset_page
from renocrm.tenancy.context import require_current_tenant
from renocrm.tenancy.time import firm_day_start, firm_days, firm_today
from worksites.models import Worksite
from worksites.selectors.schedule import crew_filter

S = Callback.Status
BUCKETS = ("due_today", "overdue", "upcoming", "retry", "done")
# The work queue's agent filter beside one agent's id: the user's own callbacks, or everybody's.
MINE, ALL = "mine", "all"
# The rating each role is rated by in the survey.
ROLE_RATING = {
    "designer": "designer_rating",
    "project_manager": "project_manager_rating",
    "qc_inspector": "qc_rating",
    "customer_service": "customer_service_rating",
}
SATISFIED = 4  # "satisfied" or "very satisfied"


# Who reads what -----------------------------------------------------------------------------------------------


def callback_readable(callback, membership, user) -> bool:
    """Whether ``user`` may open ``callback``'s page: readers of callbacks, bounded to their own projects
    where ``reader_bound`` says so (a department head who is a designer follows up on others' projects)."""
    if not membership.has_perm("callbacks.view"):
        return False
    crew = reader_bound(membership, user)
    return crew is None or Worksite.objects.filter(crew_filter(crew), pk=callback.worksite_id).exists()


def reader_bound(membership, user):
    """The user whose own projects bound what ``user`` (of ``membership``) reads of callbacks and surveys, or
    None for the whole firm. Those who work callbacks (``callbacks.manage``: admins, customer service) read
    every one; designers and project managers, who only read, read those of their own projects."""
    return None if membership.has_perm("callbacks.manage") else user


# The work queue ---------------------------------------------------------------------------------------------


def _bucket_filters(*, today: date, now: datetime) -> dict[str, Q]:
    """What each tab of the queue holds. "Due today": opened today, or a retry whose time has come.
    "Overdue": opened on an earlier day and not yet tried again. "Upcoming": planned, not due yet.
    "Retry": every callback waiting to be tried again (those due now also show under "due today").
    "Done": completed, unreachable or cancelled."""
    return {
        "due_today": Q(status=S.OPEN, due_on=today) | Q(status=S.RETRY, next_attempt_at__lte=now),
        "overdue": Q(status=S.OPEN, due_on__lt=today),
        "upcoming": Q(status=S.SCHEDULED),
        "retry": Q(status=S.RETRY),
        "done": Q(status__in=(S.COMPLETED, S.UNREACHABLE, S.CANCELLED)),
    }


def _queue(*, agent=None, method=None, crew=None):
    queryset = Callback.objects.all()
    if crew is not None:
        queryset = queryset.filter(crew_filter(crew, "worksite__"))
    if agent is not None:
        queryset = queryset.filter(assigned_to=agent)
    if method:
        queryset = queryset.filter(method=method)
    return queryset


def work_queue(*, bucket: str, agent=None, method=None, crew=None, before: int | None = None, size: int = PAGE_SIZE):
    """One keyset page (newest first) of a queue tab: (rows, the key of the next older page or None).
    Rows come with their project, customer, worksite, step and agent. ``crew``: only the projects where that
    user is the designer or the project manager (``reader_bound``)."""
    filters = _bucket_filters(today=firm_today(), now=timezone.now())
    if bucket not in filters:
        raise ValueError(f"Unknown bucket {bucket!r}; one of {', '.join(BUCKETS)}")
    queryset = (
        _queue(agent=agent, method=method, crew=crew)
        .filter(filters[bucket])
        .select_related("project", "customer", "worksite", "step", "assigned_to")
    )
    return keyset_page(queryset, before=before, size=size)


def queue_counts(*, agent=None, method=None, crew=None) -> dict[str, int]:
    """How many callbacks each tab holds, in one query."""
    filters = _bucket_filters(today=firm_today(), now=timezone.now())
    return _queue(agent=agent, method=method, crew=crew).aggregate(
        **{bucket: Count("pk", filter=condition) for bucket, condition in filters.items()}
    )


def queue_first_bucket(counts: dict[str, int]) -> str:
    """The tab the queue opens on when none is asked for: where the work is — the overdue calls if there are
    any, else today's, else the upcoming ones."""
    if counts.get("overdue"):
        return "overdue"
    if counts.get("due_today"):
        return "due_today"
    return "upcoming"


def callback_detail(pk: int, *, crew=None) -> Callback:
    """One callback with its attempts, its survey (defects, materials, demands and what it started) and the
    follow-ups it opened; 404 if the firm has no such callback, or, with ``crew``, it is not of one of that
    user's projects."""
    queryset = Callback.objects.filter(crew_filter(crew, "worksite__")) if crew is not None else Callback.objects
    queryset = queryset.select_related(
        "project",
        "customer",
        "worksite__designer",
        "worksite__project_manager",
        "worksite__qc_inspector",
        "worksite__customer_service",
        "step",
        "assigned_to",
        "completed_by",
    ).prefetch_related(
        Prefetch("attempt_log", queryset=CallbackAttempt.objects.select_related("by").order_by("at", "id")),
        Prefetch(
            "surveys",
            queryset=Survey.objects.select_related("lead", "repair_request", "complaint", "submitted_by")
            .prefetch_related("defects", "demands", "materials")
            .order_by("id"),
        ),
        Prefetch("follow_ups", queryset=FeedbackFollowUp.objects.select_related("owner").order_by("id")),
    )
    return get_object_or_404(queryset, pk=pk)


# Reports ------------------------------------------------------------------------------------------------------


def _submitted_between(start: date, end: date):
    """Surveys submitted from ``start`` to ``end`` inclusive, by the firm's calendar."""
    since, until = firm_days(start, end)
    return Survey.objects.filter(submitted_at__gte=since, submitted_at__lt=until)


def _share(part: int, whole: int) -> float | None:
    """A percentage with one decimal, or None when there is nothing to divide."""
    return round(100 * part / whole, 1) if whole else None


def _nps(promoters: int, detractors: int, answers: int) -> float | None:
    """Net promoter score: % of 9–10 answers minus % of 0–6 answers, -100 to 100."""
    return round(100 * (promoters - detractors) / answers, 1) if answers else None


NPS_COUNTS = {
    "nps_answers": Count("pk", filter=Q(nps__isnull=False)),
    "promoters": Count("pk", filter=Q(nps__gte=9)),
    "detractors": Count("pk", filter=Q(nps__lte=6)),
}


def _overdue(today: date) -> Q:
    """Still to be done past its due day (the reports' "overdue", wider than the queue tab's)."""
    return Q(status__in=(S.SCHEDULED, S.OPEN, S.RETRY), due_on__lt=today)


def callback_stats(start: date, end: date) -> dict:
    """The callbacks due from ``start`` to ``end``: planned (not cancelled), done, unreachable, overdue
    (still open past their due day, as of today), cancelled, and the completion rate (done / planned, %)."""
    today = firm_today()
    counts = Callback.objects.filter(due_on__gte=start, due_on__lte=end).aggregate(
        planned=Count("pk", filter=~Q(status=S.CANCELLED)),
        done=Count("pk", filter=Q(status=S.COMPLETED)),
        unreachable=Count("pk", filter=Q(status=S.UNREACHABLE)),
        overdue=Count("pk", filter=_overdue(today)),
        cancelled=Count("pk", filter=Q(status=S.CANCELLED)),
    )
    counts["completion_rate"] = _share(counts["done"], counts["planned"])
    return counts


def _staff_names(ids) -> dict[int, str]:
    users = get_user_model().objects.filter(pk__in=ids).only("pk", "name", "username")
    return {user.pk: str(user) for user in users}


def _check_role(role: str) -> None:
    if role not in SurveyStaff.values:
        raise ValueError(f"Unknown role {role!r}; one of {', '.join(SurveyStaff.values)}")


def satisfaction_by_staff(role: str, start: date, end: date) -> list[dict]:
    """Per designer / project manager / QC inspector / customer-service agent (as recorded on each survey):
    answers, how many were satisfied (overall 4 or 5) and the share, their own average rating where the
    survey asks for one, and the NPS of their customers. Best share first."""
    _check_role(role)
    rating = ROLE_RATING.get(role)
    extra = {"average_rating": Avg(rating)} if rating else {}
    rows = list(
        _submitted_between(start, end)
        .filter(**{f"{role}__isnull": False})
        .values(role)
        .annotate(
            answers=Count("pk"),
            satisfied=Count("pk", filter=Q(overall__gte=SATISFIED)),
            **extra,
            **NPS_COUNTS,
        )
        .order_by(role)
    )
    names = _staff_names([row[role] for row in rows])
    result = [
        {
            "staff_id": row[role],
            "name": names.get(row[role], ""),
            "answers": row["answers"],
            "satisfied": row["satisfied"],
            "satisfied_share": _share(row["satisfied"], row["answers"]),
            "average_rating": round(row["average_rating"], 2) if row.get("average_rating") is not None else None,
            "nps": _nps(row["promoters"], row["detractors"], row["nps_answers"]),
            "nps_answers": row["nps_answers"],
        }
        for row in rows
    ]
    return sorted(result, key=lambda r: (-(r["satisfied_share"] or 0), -r["answers"], r["name"]))


def satisfaction_trend(role: str, months: int = 12) -> dict:
    """The satisfied share per staff member per calendar month (firm time), for the last ``months``
    months including this one: {"months": [first days], "rows": [{"staff_id", "name", "points": [{"month",
    "answers", "satisfied", "satisfied_share"} per month]}]}."""
    today = firm_today()
    return satisfaction_monthly(role, first=add_months(today.replace(day=1), -(months - 1)), last=today)


def nps(start: date, end: date) -> dict:
    """The net promoter score of the surveys submitted in the period: promoters (9–10), passives (7–8),
    detractors (0–6), the score."""
    counts = _submitted_between(start, end).aggregate(**NPS_COUNTS)
    answers = counts["nps_answers"]
    return {
        "answers": answers,
        "promoters": counts["promoters"],
        "passives": answers - counts["promoters"] - counts["detractors"],
        "detractors": counts["detractors"],
        "score": _nps(counts["promoters"], counts["detractors"], answers),
    }


def defects_by_trade(start: date, end: date) -> list[dict]:
    """Defects homeowners reported in the period's surveys, per trade (most first) and kind."""
    since, until = firm_days(start, end)
    rows = (
        SurveyDefect.objects.filter(survey__submitted_at__gte=since, survey__submitted_at__lt=until)
        .values("trade", "kind")
        .annotate(count=Count("pk"))
        .order_by("trade", "kind")
    )
    trades: dict[str, dict] = {}
    for row in rows:
        trade = trades.setdefault(
            row["trade"],
            {"trade": row["trade"], "label": str(TradeCategory(row["trade"]).label), "count": 0, "kinds": {}},
        )
        trade["count"] += row["count"]
        trade["kinds"][row["kind"]] = row["count"]
    return sorted(trades.values(), key=lambda t: (-t["count"], t["trade"]))


def satisfaction_distribution(start: date, end: date) -> dict:
    """How the period's surveys answered overall satisfaction: count and share per level, very satisfied
    first, and the satisfied share (4 or 5)."""
    counts = _submitted_between(start, end).aggregate(
        total=Count("pk"), **{f"level_{level}": Count("pk", filter=Q(overall=level)) for level in Satisfaction.values}
    )
    total = counts["total"]
    levels = [
        {
            "level": level.value,
            "label": str(level.label),
            "count": counts[f"level_{level.value}"],
            "share": _share(counts[f"level_{level.value}"], total),
        }
        for level in Satisfaction  # 5 … 1
    ]
    satisfied = counts["level_5"] + counts["level_4"]
    return {"total": total, "levels": levels, "satisfied": satisfied, "satisfied_share": _share(satisfied, total)}


# The Reports area ---------------------------------------------------------------------------------------------

ATTENTION_LIMIT = 500


def callbacks_needing_attention(start: date, end: date, *, limit: int = ATTENTION_LIMIT) -> list[Callback]:
    """The callbacks due in the period that still need someone: unreachable ones, and open ones past their
    due day (as of today), oldest due first, with customer and agent. One query."""
    today = firm_today()
    return list(
        Callback.objects.filter(due_on__gte=start, due_on__lte=end)
        .filter(Q(status=S.UNREACHABLE) | _overdue(today))
        .select_related("customer", "assigned_to")
        .order_by("due_on", "id")[:limit]
    )


def survey_suggestions(start: date, end: date, *, limit: int = 10) -> list[dict]:
    """The homeowners' suggestions in the period's surveys, the same words counted together: [{text, count,
    latest}], most often given first, then most recent. One query."""
    return list(
        _submitted_between(start, end)
        .annotate(text=Trim("suggestions"))
        .exclude(text="")
        .values("text")
        .annotate(count=Count("pk"), latest=Max("submitted_at"))
        .order_by("-count", "-latest", "text")[:limit]
    )


def satisfaction_monthly(role: str, *, first: date, last: date) -> dict:
    """The satisfied share per staff member for each calendar month from ``first``'s to ``last``'s (firm
    time), in the shape ``satisfaction_trend`` describes."""
    _check_role(role)
    zone = require_current_tenant().zone
    first = first.replace(day=1)
    month_list = []
    month = first
    while month <= last:
        month_list.append(month)
        month = add_months(month, 1)
    rows = (
        Survey.objects.filter(
            submitted_at__gte=firm_day_start(first),
            submitted_at__lt=firm_day_start(add_months(month_list[-1], 1)),
            **{f"{role}__isnull": False},
        )
        .annotate(month=TruncMonth("submitted_at", tzinfo=zone))
        .values(role, "month")
        .annotate(answers=Count("pk"), satisfied=Count("pk", filter=Q(overall__gte=SATISFIED)))
        .order_by(role, "month")
    )
    cells: dict[int, dict[date, tuple[int, int]]] = {}
    for row in rows:
        month = row["month"].date() if isinstance(row["month"], datetime) else row["month"]
        cells.setdefault(row[role], {})[month] = (row["answers"], row["satisfied"])
    names = _staff_names(cells.keys())
    result = []
    for staff_id, by_month in cells.items():
        points = []
        for month in month_list:
            answers, satisfied = by_month.get(month, (0, 0))
            share = _share(satisfied, answers)
            points.append({"month": month, "answers": answers, "satisfied": satisfied, "satisfied_share": share})
        result.append({"staff_id": staff_id, "name": names.get(staff_id, ""), "points": points})
    result.sort(key=lambda r: r["name"])
    return {"months": month_list, "rows": result}


# Feedback follow-ups ------------------------------------------------------------------------------------------

FOLLOW_UP_STATES = ("open", "overdue", "closed", "all")


def follow_ups_visible(membership, user):
    """The follow-ups ``user`` (of ``membership``) may read: whoever reads callbacks, those of the callbacks
    they read (admins and customer service every one, designers and project managers their projects'); and
    everyone the ones they own, whatever their role — a department head may be anyone."""
    queryset = FeedbackFollowUp.objects.all()
    if not membership.has_perm("callbacks.view"):
        return queryset.filter(owner=user)
    crew = reader_bound(membership, user)
    if crew is None:
        return queryset
    return queryset.filter(Q(owner=user) | crew_filter(crew, "callback__worksite__"))


def follow_up_page(visible, *, owner=None, state: str = "open", before: int | None = None, size: int = PAGE_SIZE):
    """One keyset page (newest first) of ``visible`` follow-ups: (rows, the key of the next older page or
    None). ``owner`` keeps one person's; ``state`` is open, overdue (open past the deadline), closed or all.
    Rows come with their owner, customer, project and the survey's materials (for the answers' wording)."""
    if state not in FOLLOW_UP_STATES:
        raise ValueError(f"Unknown state {state!r}; one of {', '.join(FOLLOW_UP_STATES)}")
    queryset = visible
    if owner is not None:
        queryset = queryset.filter(owner=owner)
    if state == "open":
        queryset = queryset.filter(status=FeedbackFollowUp.Status.OPEN)
    elif state == "overdue":
        queryset = queryset.filter(status=FeedbackFollowUp.Status.OPEN, due_on__lt=firm_today())
    elif state == "closed":
        queryset = queryset.filter(status=FeedbackFollowUp.Status.CLOSED)
    queryset = queryset.select_related("owner", "callback__customer", "callback__project", "survey").prefetch_related(
        "survey__materials"
    )
    return keyset_page(queryset, before=before, size=size)


def follow_up_detail(pk: int, *, visible) -> FeedbackFollowUp:
    """One follow-up with its callback, survey and people; 404 unless it is among ``visible``."""
    queryset = visible.select_related(
        "owner",
        "closed_by",
        "callback__customer",
        "callback__project",
        "callback__assigned_to",
        "survey__submitted_by",
    ).prefetch_related("survey__materials")
    return get_object_or_404(queryset, pk=pk)


def trigger_lines(follow_up: FeedbackFollowUp) -> list[dict]:
    """The answers that opened the follow-up, worded as the survey asks them: [{question, answer, note}].
    Needs the survey and its materials loaded (``follow_up_page``, ``follow_up_detail``)."""
    survey = follow_up.survey
    materials = {row.pk: row for row in survey.materials.all()}
    lines = []
    for trigger in follow_up.triggers:
        question, answer = trigger.get("question"), trigger.get("answer")
        if question == "material":
            row = materials.get(trigger.get("material"))
            item = " · ".join(part for part in (row.item, row.brand) if part) if row else "—"
            lines.append(
                {
                    "question": _("Material: %(item)s") % {"item": item},
                    "answer": Satisfaction(answer).label,
                    "note": row.comment if row else "",
                }
            )
            continue
        label = capfirst(Survey._meta.get_field(question).verbose_name)
        if question == "suggestions":
            lines.append({"question": label, "answer": survey.suggestions or "—", "note": ""})
        elif question == "expectation":
            lines.append({"question": label, "answer": Survey.Expectation(answer).label, "note": ""})
        else:
            lines.append({"question": label, "answer": Satisfaction(answer).label, "note": ""})
    return lines


# The agenda -------------------------------------------------------------------------------------------------


def callbacks_for_agenda(*, staff: list[int] | None, start: date, end: date):
    """Callbacks to do (open, or to try again) of the agents ``staff`` (user ids; None: everyone's) that fall
    on the firm-local days ``start`` to ``end`` (inclusive): on the day of the visit booked, else of the next
    attempt of one to try again, else of its due date. With the customer and the project's property."""
    since, until = firm_days(start, end)
    unbooked = Q(appointment_at__isnull=True)
    retry_at = Q(status=S.RETRY, next_attempt_at__isnull=False)
    callbacks = Callback.objects.filter(status__in=Callback.ACTIVE_STATUSES).filter(
        Q(appointment_at__gte=since, appointment_at__lt=until)
        | (unbooked & retry_at & Q(next_attempt_at__gte=since, next_attempt_at__lt=until))
        | (unbooked & ~retry_at & Q(due_on__gte=start, due_on__lte=end))
    )
    if staff is not None:
        callbacks = callbacks.filter(assigned_to__in=staff)
    return callbacks.select_related("customer", "project__property", "assigned_to").order_by("due_on", "id")


# The role of the staff each department head leads (callback settings name the heads).
HEADED_ROLES = {
    "design_head": Role.DESIGNER,
    "construction_head": Role.PROJECT_MANAGER,
    "qc_head": Role.QC,
    "service_head": Role.CUSTOMER_SERVICE,
}


def roles_headed(*, user) -> frozenset[str]:
    """The staff roles whose department ``user`` heads in the firm's callback settings (empty: none)."""
    heads = CallbackSettings.objects.values_list(*HEADED_ROLES).first()
    if heads is None:
        return frozenset()
    return frozenset(role for role, head in zip(HEADED_ROLES.values(), heads, strict=True) if head == user.pk)
