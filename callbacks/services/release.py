"""The sweeper that releases due callbacks exactly once, and re-sends the survey link of SMS callbacks
whose retry is due.

The sweeper's guarantees rest on the database, not on the broker: a callback is released by the
transaction that claims its row (``SELECT … FOR UPDATE SKIP LOCKED``), changes its status and writes its
notifications, so a second sweep skips or no longer matches it, and a sweep that dies leaves its batch
exactly as it was. A batch is written set-wise (one UPDATE, one INSERT of its messages, one task to send
them); each agent hears once per batch how many callbacks became theirs. Every message carries an
idempotency key naming a callback.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from django.conf import settings as django_settings
from django.db import connection, transaction
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext

from callbacks.models import Callback, CallbackAttempt, CallbackSettings, Method
from callbacks.services.actions import callback_sms_send
from callbacks.services.plan import callback_settings_get
from callbacks.services.survey_link import sms_key, sms_message
from renocrm.accounts.models import Membership
from renocrm.accounts.roles import Role
from renocrm.outbox.models import Notification
from renocrm.outbox.services import notifications_send_many, notify_staff_many
from renocrm.sweeps.services import Sweep
from renocrm.tenancy.context import require_current_tenant

# How many callbacks one sweeper transaction releases, and how many batches one call runs at most (a
# beat five minutes later picks up whatever is left).
BATCH_SIZE = 500
MAX_BATCHES = 20
# The sweepers' names in renocrm.sweeps (their failures and backoff).
RELEASE_SWEEP = "callbacks-due"
LINK_RESEND_SWEEP = "callback-link-resend"


# The sweeper ------------------------------------------------------------------------------------------------------


class _Assigner:
    """Picks the agent of each released callback in a batch, reading the firm's members (with their users,
    who are told) once. The settings row is locked for the batch, so two sweeps never hand out the same
    round-robin turn."""

    def __init__(self):
        settings = CallbackSettings.objects.select_for_update().first()
        if settings is None:  # the firm's first sweep
            settings = CallbackSettings.objects.select_for_update().get(pk=callback_settings_get().pk)
        self.settings = settings
        members = Membership.objects.filter(
            tenant=require_current_tenant(), is_active=True, user__is_active=True
        ).select_related("user")
        self.users = {member.user_id: member.user for member in members}
        self.active = set(self.users)
        self.agents = sorted(member.user_id for member in members if member.has_role(Role.CUSTOMER_SERVICE))
        self.last = self.settings.last_assigned_id
        self.turns = 0

    def next_in_turn(self) -> int | None:
        if not self.agents:
            return None
        later = [user_id for user_id in self.agents if self.last is None or user_id > self.last]
        self.last = later[0] if later else self.agents[0]
        self.turns += 1
        return self.last

    def pick(self, callback: Callback) -> int | None:
        if callback.assigned_to_id in self.active:
            return callback.assigned_to_id  # assigned ahead by staff
        if self.settings.assignment == CallbackSettings.Assignment.PROJECT_AGENT:
            own = callback.worksite.customer_service_id
            if own in self.active:
                return own
        return self.next_in_turn()

    def save(self) -> None:
        if self.turns:
            self.settings.last_assigned_id = self.last
            self.settings.save(update_fields=["last_assigned"])


def _release_one(callback: Callback, *, agent, now: datetime) -> None:
    """Open one claimed callback in memory; its batch writes them all with one UPDATE."""
    callback.status, callback.released_at, callback.assigned_to = Callback.Status.OPEN, now, agent


def _open_released(callbacks: list[Callback], *, now: datetime) -> None:
    """One UPDATE for the batch (the audit trigger still records each row)."""
    table = connection.ops.quote_name(Callback._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS c SET status = %s, released_at = %s, assigned_to_id = r.agent_id "  # noqa: S608 - the model's table
            "FROM unnest(%s::bigint[], %s::bigint[]) AS r(id, agent_id) WHERE c.id = r.id AND c.tenant_id = %s",
            [
                Callback.Status.OPEN,
                now,
                [callback.pk for callback in callbacks],
                [callback.assigned_to_id for callback in callbacks],
                require_current_tenant().pk,
            ],
        )


def _queue_url() -> str:
    try:
        return f"{django_settings.SITE_URL}{reverse('callbacks:list')}?agent=mine"
    except NoReverseMatch:
        return ""


def _agent_notices(released: list[Callback], users: dict) -> list[dict]:
    """One message per agent for the whole batch: how many callbacks are now theirs, and their queue."""
    firsts, counts = {}, Counter()
    for callback in released:
        if callback.assigned_to_id is not None:
            agent_id = callback.assigned_to_id
            counts[agent_id] += 1
            firsts[agent_id] = min(firsts.get(agent_id, callback.pk), callback.pk)
    url = _queue_url()
    notices = []
    with translation.override(require_current_tenant().language):
        for agent_id, count in counts.items():
            values = {"count": count}
            subject = (
                ngettext("%(count)s callback released to you", "%(count)s callbacks released to you", count) % values
            )
            body = (
                ngettext(
                    "%(count)s callback is due and waits in your queue.",
                    "%(count)s callbacks are due and wait in your queue.",
                    count,
                )
                % values
            )
            if url:
                body += " " + url
            # A callback is released once (nothing puts it back to scheduled), by one batch, to one agent: so
            # the smallest id released to this agent in this batch names this release and no other.
            notices.append(
                {
                    "user": users.get(agent_id),
                    "subject": subject,
                    "body": body,
                    "idempotency_key": f"callback:{firsts[agent_id]}:released:{agent_id}",
                    "link": url,
                }
            )
    # Recorded in the app (one INSERT); the texts and e-mails go with the batch's other messages.
    return notify_staff_many(notices)


def _survey_link_texts(callbacks: list[Callback], *, settings: CallbackSettings) -> list[dict]:
    """The homeowner's survey link for each SMS callback, keyed like ``callback_sms_send``'s."""
    base_url = django_settings.SITE_URL
    return [
        {
            "channel": Notification.Channel.SMS,
            "recipient": callback.customer.mobile,
            **sms_message(callback, base_url=base_url, settings=settings),
            "idempotency_key": sms_key(callback),
        }
        for callback in callbacks
        if callback.method == Method.SMS
    ]


@transaction.atomic(savepoint=False)
def _release_batch(*, now: datetime, today: date, limit: int, sweep: Sweep) -> int:
    due = list(
        sweep.batch(
            Callback.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("customer", "worksite")
            .filter(status=Callback.Status.SCHEDULED, due_on__lte=today)
            .order_by("due_on", "id"),
            size=limit,
        )
    )
    if not due:
        return 0
    try:
        with transaction.atomic():
            _release(due, now=now)
    except Exception:  # noqa: BLE001 - a callback the batch could not release: one by one, so it alone waits
        ids = [callback.pk for callback in due]
        return sum(sweep.run(pk, _release_again, pk, now=now) or 0 for pk in ids)
    for callback in due:
        sweep.succeeded(callback.pk)
    return len(due)


def _release(due: list[Callback], *, now: datetime) -> None:
    assigner = _Assigner()
    for callback in due:
        agent_id = assigner.pick(callback)
        _release_one(callback, agent=assigner.users.get(agent_id), now=now)
    _open_released(due, now=now)
    assigner.save()
    texts = _survey_link_texts(due, settings=assigner.settings)
    sent = notifications_send_many(_agent_notices(due, assigner.users) + texts)
    at = timezone.now()
    CallbackAttempt.objects.bulk_create(
        [
            CallbackAttempt(callback=callback, method=Method.SMS, outcome=CallbackAttempt.Outcome.SMS_SENT, at=at)
            for callback in due
            if callback.method == Method.SMS and sms_key(callback) in sent
        ]
    )


def _release_again(pk: int, *, now: datetime) -> int:
    """Release one callback of a batch that failed, read afresh (the failed attempt left its marks in memory)."""
    _release([Callback.objects.select_related("customer", "worksite").get(pk=pk)], now=now)
    return 1


@transaction.atomic(savepoint=False)
def _resend_due_links(*, now: datetime, limit: int, sweep: Sweep) -> int:
    """SMS callbacks whose retry is due get the link again, once per attempt number: the rows whose key
    has no message yet. Each in its own savepoint: one that fails waits out its backoff alone."""
    key = Concat(
        Value("callback:"),
        Cast("pk", CharField()),
        Value(":sms:"),
        Cast("attempts", CharField()),
        output_field=CharField(),
    )
    due = list(
        sweep.batch(
            Callback.objects.select_for_update(skip_locked=True, of=("self",))
            .annotate(sms_key=key)
            .filter(status=Callback.Status.RETRY, method=Method.SMS, next_attempt_at__lte=now)
            .exclude(Exists(Notification.objects.filter(idempotency_key=OuterRef("sms_key"))))
            .order_by("next_attempt_at", "id"),
            size=limit,
        )
    )
    for callback in due:
        sweep.run(callback.pk, callback_sms_send, callback=callback)
    return len(due)


def callbacks_release_due(
    *, now: datetime | None = None, limit: int = BATCH_SIZE, max_batches: int = MAX_BATCHES
) -> int:
    """THE SWEEPER. Release every scheduled callback due by the firm's today, oldest first, ``limit`` per
    batch: assign the agents, open the callbacks, tell each agent once how many are now theirs and, for an
    SMS callback, text the homeowner the survey link — each batch in its own transaction (or in the caller's
    when it holds one, as a task does: it runs one batch), rows claimed with SKIP LOCKED so concurrent sweeps
    share the work and never double it. A batch that fails is released again one callback at a time, each in
    its own savepoint: the one that fails is recorded and retried later with backoff (``renocrm.sweeps``)
    while the others go out. Then re-send the link of SMS callbacks whose retry is due, the same way. Returns
    how many callbacks were released."""
    tenant = require_current_tenant()
    now = now or timezone.now()
    today = timezone.localtime(now, tenant.zone).date()
    sweep = Sweep(RELEASE_SWEEP, batch_size=limit)
    released = 0
    for _batch in range(max_batches):
        count = _release_batch(now=now, today=today, limit=limit, sweep=sweep)
        released += count
        if count < limit:
            break
    _resend_due_links(now=now, limit=limit, sweep=Sweep(LINK_RESEND_SWEEP, batch_size=limit))
    return released
