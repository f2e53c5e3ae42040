"""The homeowner portal: signed links into one worksite, what the homeowner does through them, and the
weekly progress digest.

A link's URL carries a token signed with the site's secret (its own salt) naming the firm and the
``PortalLink`` row. The signature only proves the app made the token; the row decides whether it still
works — it expires at ``expires_at`` and stops at once when revoked. Everything done through a link runs
in the firm's context with ``request_id="portal-link:<id>"``, so the database audit trail names the link
on every row it changed, and each action also leaves a ``PortalAction`` with the address and browser.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from leads.validators import normalize_mobile, validate_mobile
from renocrm import links
from renocrm.outbox.models import Notification
from renocrm.outbox.services import notification_send
from renocrm.sweeps.services import Sweep
from renocrm.tenancy.context import require_current_tenant, tenant_context
from worksites.models import Inspection, PortalAction, PortalLink, SignoffRole, Worksite
from worksites.selectors import portal as selectors
from worksites.services import inspections as inspection_services
from worksites.services import schedule as schedule_services

SALT = "worksites.portal-link"
MAX_DAYS = 365
# One OPENED row per link per hour keeps the trail readable when a homeowner browses page after page.
OPENED_EVERY = timedelta(hours=1)
# The digest reuses a link with at least this long left, else it makes a new one for DIGEST_LINK_DAYS.
DIGEST_REUSE_MIN_LEFT = timedelta(days=7)
DIGEST_LINK_DAYS = 14
# The digest goes out from Monday at this hour, firm time.
DIGEST_HOUR = 9
# The digest sweeper's name in renocrm.sweeps (its failures and backoff).
WEEKLY_DIGEST_SWEEP = "weekly-digests"

EXPIRED = gettext_lazy("This link has expired — ask your designer for a new link.")
REVOKED = gettext_lazy("This link has been withdrawn — ask your designer for a new link.")
INVALID = gettext_lazy(
    "This link is not valid. Check that you opened the whole link, or ask your designer for a new one."
)
UNAVAILABLE = gettext_lazy("This portal is no longer available. Please contact your renovation firm.")
# Reasons for which the link did exist (the page answers 410 Gone rather than 404).
GONE = (EXPIRED, REVOKED)
# The token itself carries no age limit (the row's expires_at does), so only these come from reading it.
REFUSED = {links.INVALID: INVALID, links.INACTIVE: UNAVAILABLE}


# Links -----------------------------------------------------------------------------------------------------


def portal_link_token(link: PortalLink) -> str:
    return links.make_token(link, salt=SALT)


def portal_link_url(link: PortalLink) -> str:
    """The portal's path for this link (make it absolute with the site's base URL)."""
    return reverse("portal:home", args=[portal_link_token(link)])


def portal_link_absolute_url(link: PortalLink, *, base_url: str) -> str:
    return f"{base_url.rstrip('/')}{portal_link_url(link)}"


@transaction.atomic
def portal_link_create(*, worksite: Worksite, created_by=None, days: int = 30, sent_to: str = "") -> PortalLink:
    if not 1 <= int(days) <= MAX_DAYS:
        raise ValidationError({"days": _("A link is valid for 1 to %(max)s days.") % {"max": MAX_DAYS}})
    return PortalLink.objects.create(
        worksite=worksite,
        expires_at=timezone.now() + timedelta(days=int(days)),
        created_by=created_by,
        sent_to=sent_to[:200],
    )


def _clean_recipient(channel: str, recipient: str) -> str:
    if channel == Notification.Channel.SMS:
        mobile = normalize_mobile(recipient)
        try:
            validate_mobile(mobile)
        except ValidationError as error:
            raise ValidationError({"recipient": error.messages}) from None
        return mobile
    if channel == Notification.Channel.EMAIL:
        address = recipient.strip()
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError({"recipient": _("Enter a valid e-mail address.")}) from None
        return address
    raise ValidationError({"channel": _("Send by SMS or e-mail.")})


def _link_message(*, link: PortalLink, url: str) -> tuple[str, str, dict]:
    """Subject and body of the message that carries a link, in the firm's language, and its values (an
    approved SMS template's parameters)."""
    firm = require_current_tenant()
    worksite = Worksite.objects.select_related("project").get(pk=link.worksite_id)
    expires = timezone.localtime(link.expires_at, firm.zone).date()
    with translation.override(firm.language):
        subject = _("%(firm)s: your renovation on your phone") % {"firm": firm.name}
        values = {"firm": firm.name, "project": worksite.project.name, "url": url, "date": expires.isoformat()}
        body = (
            _(
                "%(firm)s: follow the works at %(project)s — progress photos, the schedule and what waits for "
                "your sign-off: %(url)s (valid until %(date)s; please do not share it)."
            )
            % values
        )
        if firm.phone:
            body += " " + _("Questions: %(phone)s") % {"phone": firm.phone}
    return subject, body, {**values, "phone": firm.phone}


@transaction.atomic
def portal_link_send(*, link: PortalLink, channel: str, recipient: str, base_url: str) -> Notification:
    """Send the link by SMS or e-mail, once per link, channel and recipient (the idempotency key)."""
    recipient = _clean_recipient(channel, recipient)
    link = PortalLink.objects.select_for_update().get(pk=link.pk)
    if not link.is_usable:
        raise ValidationError(_("This link is expired or revoked; create a new one."))
    subject, body, values = _link_message(link=link, url=portal_link_absolute_url(link, base_url=base_url))
    notification = notification_send(
        channel=channel,
        recipient=recipient,
        subject=subject if channel == Notification.Channel.EMAIL else "",
        body=body,
        idempotency_key=f"portal-link:{link.pk}:{channel}:{recipient}",
        sms_template="worksites.portal_link",
        sms_params=values,
    )
    if link.sent_to != recipient[:200]:
        link.sent_to = recipient[:200]
        link.save(update_fields=["sent_to"])
    return notification


@transaction.atomic
def portal_link_revoke(*, link: PortalLink, revoked_by) -> PortalLink:
    """Stop a link at once; revoking it again changes nothing."""
    link = PortalLink.objects.select_for_update().get(pk=link.pk)
    if link.revoked_at is None:
        link.revoked_at, link.revoked_by = timezone.now(), revoked_by
        link.save(update_fields=["revoked_at", "revoked_by"])
    return link


@transaction.atomic
def portal_link_issue(
    *, worksite: Worksite, created_by, days: int = 30, channel: str = "", recipient: str = "", base_url: str = ""
) -> PortalLink:
    """Create a link and, when a channel is given, send it: both happen or neither."""
    link = portal_link_create(worksite=worksite, created_by=created_by, days=days)
    if channel:
        portal_link_send(link=link, channel=channel, recipient=recipient, base_url=base_url)
        link.refresh_from_db()
    return link


# Opening a link and recording what is done through it ---------------------------------------------------------


def portal_action_record(
    *, link: PortalLink, action: str, object_id: int | None = None, ip_address: str | None = None, user_agent: str = ""
) -> PortalAction:
    """Runs in the caller's transaction, so an action and its trail row commit or roll back together."""
    return PortalAction.objects.create(
        link=link, action=action, object_id=object_id, ip_address=ip_address or None, user_agent=user_agent[:300]
    )


def _note_opened(link: PortalLink, *, ip_address: str | None, user_agent: str) -> None:
    now = timezone.now()
    if link.last_opened_at is not None and link.last_opened_at > now - OPENED_EVERY:
        return  # already recorded this hour, as the row just read says: no write on every page
    # A conditional update claims the hour, so two pages opened at once record one OPENED row.
    claimed = PortalLink.objects.filter(
        Q(last_opened_at__isnull=True) | Q(last_opened_at__lte=now - OPENED_EVERY), pk=link.pk
    ).update(last_opened_at=now)
    if claimed:
        link.last_opened_at = now
        portal_action_record(link=link, action=PortalAction.Action.OPENED, ip_address=ip_address, user_agent=user_agent)


@contextmanager
def open_link(token: str, *, ip_address: str | None = None, user_agent: str = ""):
    """Yields (link, None) inside the link's firm context — audited as ``portal-link:<id>`` — or (None, the
    reason shown to the homeowner) for a tampered, unknown, expired or revoked link or an inactive firm."""
    firm, link_id, refused = links.read_token(token, salt=SALT)
    if refused:
        yield None, REFUSED[refused]
        return
    with tenant_context(firm, request_id=f"portal-link:{link_id}"):
        link = PortalLink.objects.select_related("tenant", "worksite__project__customer").filter(pk=link_id).first()
        if link is None:
            yield None, INVALID
        elif link.revoked_at is not None:
            yield None, REVOKED
        elif link.expires_at <= timezone.now():
            yield None, EXPIRED
        else:
            _note_opened(link, ip_address=ip_address, user_agent=user_agent)
            yield link, None


# Weekly digest -------------------------------------------------------------------------------------------------


def digest_week(now: datetime) -> tuple[int, int] | None:
    """The ISO (year, week) whose digest is due at ``now`` in the current firm's zone, or None before
    Monday 09:00 firm time."""
    local = timezone.localtime(now, require_current_tenant().zone)
    if local.weekday() == 0 and local.hour < DIGEST_HOUR:
        return None
    iso = local.isocalendar()
    return iso.year, iso.week


def portal_link_for_texts(worksite: Worksite, *, now: datetime, sent_to: str) -> PortalLink:
    """The link a text to the homeowner carries (the digest, an invitation, a notice): an open one with at
    least a week left, else a new two-week one."""
    link = (
        PortalLink.objects.filter(
            worksite=worksite, revoked_at__isnull=True, expires_at__gte=now + DIGEST_REUSE_MIN_LEFT
        )
        .order_by("-expires_at")
        .first()
    )
    return link or portal_link_create(worksite=worksite, created_by=None, days=DIGEST_LINK_DAYS, sent_to=sent_to)


def _digest_body(*, firm, worksite: Worksite, digest: dict, url: str) -> str:
    with translation.override(firm.language):
        parts = [_("%(firm)s — this week at %(project)s:") % {"firm": firm.name, "project": worksite.project.name}]
        if digest["updates"]:
            count = digest["updates"]
            parts.append(
                ngettext("%(count)s new progress update.", "%(count)s new progress updates.", count) % {"count": count}
            )
        else:
            parts.append(_("No new progress updates."))
        if digest["finished"]:
            parts.append(_("Finished: %(phases)s.") % {"phases": ", ".join(p.name for p in digest["finished"])})
        if digest["awaiting"]:
            count = digest["awaiting"]
            parts.append(
                ngettext("%(count)s item waits for your sign-off.", "%(count)s items wait for your sign-off.", count)
                % {"count": count}
            )
        nxt = digest["next"]
        if nxt is not None:
            parts.append(
                _("Next: %(phase)s (planned %(start)s – %(end)s).")
                % {"phase": nxt.name, "start": nxt.planned_start.isoformat(), "end": nxt.planned_end.isoformat()}
            )
        parts.append(_("Photos and details: %(url)s") % {"url": url})
    return " ".join(parts)


def weekly_digests_send(*, now: datetime | None = None, base_url: str | None = None, sweep: Sweep | None = None) -> int:
    """Send this ISO week's digest to the homeowner of each worksite in progress, from Monday 09:00 firm
    time. Run hourly: the idempotency key ``weekly-digest:<worksite>:<year>-W<week>`` sends once a week,
    and a beat that was down on Monday catches up later in the week. One bounded batch, each worksite in its
    own savepoint: one that fails is recorded and retried later (``renocrm.sweeps``) without holding up the
    others. Returns how many were sent now."""
    now = now or timezone.now()
    sweep = sweep or Sweep(WEEKLY_DIGEST_SWEEP)
    week = digest_week(now)
    if week is None:
        return 0
    base_url = base_url or settings.SITE_URL  # no request to take the site's address from
    key = "weekly-digest:{pk}:{year}-W{week:02d}"
    worksites = list(
        Worksite.objects.filter(status=Worksite.Status.IN_PROGRESS).select_related("project__customer").order_by("pk")
    )
    keys = {w.pk: key.format(pk=w.pk, year=week[0], week=week[1]) for w in worksites}
    already = set(
        Notification.objects.filter(idempotency_key__in=keys.values()).values_list("idempotency_key", flat=True)
    )
    sent = 0
    for worksite in worksites:
        if keys[worksite.pk] in already or not worksite.project.customer.mobile:
            continue
        if sweep.full:
            break
        sent += sweep.run(worksite.pk, _digest_send, worksite, key=keys[worksite.pk], now=now, base_url=base_url) or 0
    return sent


def homeowner_text_send(
    worksite: Worksite,
    *,
    key: str,
    now: datetime,
    base_url: str,
    body,
    sms_template: str = "",
    sms_params: dict | None = None,
) -> int:
    """Text the homeowner once per ``key``: ``body(url)`` gives the words around their portal link (an open
    link reused, else a new one). The worksite is locked, so two runs at once neither make two links nor
    send twice. Returns 1 when sent now, 0 when it had been. ``sms_template`` and ``sms_params``: the
    message's approved-template key and values (the link is added as ``url``)."""
    Worksite.objects.select_for_update().filter(pk=worksite.pk).first()
    if Notification.objects.filter(idempotency_key=key).exists():
        return 0
    mobile = worksite.project.customer.mobile
    link = portal_link_for_texts(worksite, now=now, sent_to=mobile)
    url = portal_link_absolute_url(link, base_url=base_url)
    notification_send(
        channel=Notification.Channel.SMS,
        recipient=mobile,
        body=body(url),
        idempotency_key=key,
        sms_template=sms_template,
        sms_params={**(sms_params or {}), "url": url},
    )
    return 1


def _digest_send(worksite: Worksite, *, key: str, now: datetime, base_url: str) -> int:
    digest = selectors.weekly_digest(worksite=worksite, now=now)
    firm = require_current_tenant()
    return homeowner_text_send(
        worksite,
        key=key,
        now=now,
        base_url=base_url,
        body=lambda url: _digest_body(firm=firm, worksite=worksite, digest=digest, url=url),
        sms_template="worksites.weekly_digest",
        sms_params={
            "firm": firm.name,
            "project": worksite.project.name,
            "updates": digest["updates"],
            "awaiting": digest["awaiting"],
        },
    )


def on_inspection_scheduled(event) -> None:
    """Outbox handler: scheduling the final acceptance invites the homeowner (预验收合格后工长通知客户验收) by
    SMS with their portal link, where they sign it. Once per inspection (the idempotency key)."""
    payload = event.payload
    if payload["kind"] != Inspection.Kind.FINAL_ACCEPTANCE:
        return
    worksite = Worksite.objects.select_related("project__customer").filter(pk=payload["worksite_id"]).first()
    if worksite is None or not worksite.project.customer.mobile:
        return
    firm = require_current_tenant()

    def invitation(url: str) -> str:
        with translation.override(firm.language):
            day = payload["scheduled_on"] or _("a day your site lead will agree with you")
            return _(
                "%(firm)s: the works at %(project)s passed our QC pre-inspection. You are invited to the final "
                "acceptance on %(day)s — please check every room with us and sign it at %(url)s"
            ) % {"firm": firm.name, "project": worksite.project.name, "day": day, "url": url}

    key = f"final-acceptance-invite:{payload['inspection_id']}"
    homeowner_text_send(
        worksite,
        key=key,
        now=timezone.now(),
        base_url=settings.SITE_URL,
        body=invitation,
        sms_template="worksites.final_acceptance_invite",
        sms_params={"firm": firm.name, "project": worksite.project.name, "day": payload["scheduled_on"] or ""},
    )


# What the homeowner does through a link: the other parts' service and the trail row, in one transaction ----------


@contextmanager
def _through_link(link: PortalLink, obj, action: str, ip_address: str | None, user_agent: str):
    """One homeowner action on ``obj``, refused unless ``obj`` is at the link's worksite: the block runs the
    other part's service, and the trail row is written with it, in one transaction."""
    if obj.worksite_id != link.worksite_id:
        raise ValidationError(_("This item does not belong to your worksite."))
    with transaction.atomic():
        yield
        portal_action_record(link=link, action=action, object_id=obj.pk, ip_address=ip_address, user_agent=user_agent)


def portal_phase_accept(*, link: PortalLink, phase, name: str, ip_address: str | None = None, user_agent: str = ""):
    with _through_link(link, phase, PortalAction.Action.PHASE_ACCEPTED, ip_address, user_agent):
        return schedule_services.phase_accept(phase=phase, name=name)


def portal_inspection_sign(
    *, link: PortalLink, inspection, name: str, ip_address: str | None = None, user_agent: str = ""
):
    with _through_link(link, inspection, PortalAction.Action.INSPECTION_SIGNED, ip_address, user_agent):
        return inspection_services.inspection_sign(
            inspection=inspection, role=SignoffRole.HOMEOWNER, signed_name=name, portal_link=link, ip_address=ip_address
        )


def portal_material_accept(
    *, link: PortalLink, arrival, name: str, ip_address: str | None = None, user_agent: str = ""
):
    with _through_link(link, arrival, PortalAction.Action.MATERIAL_SIGNED, ip_address, user_agent):
        return inspection_services.material_arrival_sign(
            arrival=arrival, role=SignoffRole.HOMEOWNER, signed_name=name, portal_link=link, ip_address=ip_address
        )


def portal_material_reject(
    *, link: PortalLink, arrival, name: str, reason: str, ip_address: str | None = None, user_agent: str = ""
):
    with _through_link(link, arrival, PortalAction.Action.MATERIAL_REJECTED, ip_address, user_agent):
        return inspection_services.material_arrival_reject(
            arrival=arrival, reason=reason, signed_name=name, portal_link=link
        )


def portal_solution_choose(
    *, link: PortalLink, problem, solution, name: str, ip_address: str | None = None, user_agent: str = ""
):
    with _through_link(link, problem, PortalAction.Action.SOLUTION_CHOSEN, ip_address, user_agent):
        if solution.problem_id != problem.pk:
            raise ValidationError({"solution": _("Choose one of the solutions proposed for this problem.")})
        return inspection_services.site_problem_choose(
            problem=problem, solution=solution, chosen_name=name, portal_link=link
        )
