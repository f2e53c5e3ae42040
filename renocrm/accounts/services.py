"""A firm's staff, run by its admins: invitations, roles, leaving and coming back, password-reset links.

Every change writes a ``StaffChange`` (the staff page's history; the audit trail records it too). The firm
always keeps one active admin: the last one can be neither demoted nor deactivated.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from renocrm.links import make_token, read_token
from renocrm.mobiles import normalize_mobile, validate_mobile
from renocrm.outbox.models import Notification
from renocrm.outbox.services import notification_send
from renocrm.tenancy.context import require_current_tenant, tenant_context
from renocrm.tenancy.models import Tenant

from . import open_work
from .calendar_feeds import calendar_feed_revoke
from .models import Membership, StaffChange, StaffInvitation, ordered_roles
from .roles import DUTIES, Role, duty_roles
from .staff import require_staff_role

INVITATION_SALT = "renocrm.staff-invitation"
INVITATION_LIFETIME = timedelta(days=7)


def _lock_firm():
    """Staff changes of one firm happen one at a time: the last-admin rule and the one-open-invitation rule
    are checked against what the previous change left, and two admins changing each other cannot deadlock."""
    Tenant.objects.select_for_update().filter(pk=require_current_tenant().pk).first()


def _refuse_admin_by_key(*, by, roles=(), membership=None, field: str) -> None:
    """Admins are made, changed and removed by a signed-in admin only, never by a partner's key (``by`` None)."""
    if by is None and (Role.ADMIN in roles or (membership is not None and membership.has_role(Role.ADMIN))):
        raise ValidationError({field: _("Only a signed-in firm admin can make, change or remove a firm admin.")})


def _withdraw_invitations_to(user, *, by, keep=None) -> None:
    """Open invitations to the person's own addresses: one has been used, or the person has left."""
    addresses = Q(mobile=user.phone) if user.phone else Q(pk__in=[])
    if user.email:
        addresses |= Q(email__iexact=user.email)
    if user.username:
        addresses |= Q(mobile=user.username) | Q(email__iexact=user.username)
    stale = StaffInvitation.objects.filter(addresses, accepted_at__isnull=True, withdrawn_at__isnull=True)
    if keep is not None:
        stale = stale.exclude(pk=keep.pk)
    for invitation in stale:
        invitation.withdrawn_at = timezone.now()
        invitation.save(update_fields=["withdrawn_at"])
        _record(StaffChange.Action.INVITATION_WITHDRAWN, by=by, invitation=invitation)


def _record(action: str, *, by, member=None, invitation=None, **details) -> StaffChange:
    return StaffChange.objects.create(action=action, member=member, invitation=invitation, by=by, details=details)


def _existing_user(*, mobile: str, email: str):
    # The sign-in name first: a phone or e-mail typed into someone else's profile never outranks it.
    users = get_user_model().objects
    if mobile:
        return users.filter(username=mobile).first() or users.filter(phone=mobile).order_by("pk").first()
    return users.filter(email__iexact=email).first()


# Invitations ------------------------------------------------------------------------------------------------


def invitation_check(*, name: str, mobile: str = "", email: str = "", roles) -> dict:
    """The invitation as it would be written, or every reason it cannot be, at once."""
    errors: dict[str, list[str]] = {}
    name, mobile, email = (name or "").strip(), normalize_mobile(mobile), (email or "").strip().lower()
    if not name:
        errors["name"] = [_("Enter the person's name.")]
    if bool(mobile) == bool(email):
        errors["mobile"] = [_("Enter either a mobile number or an e-mail address (one of the two).")]
    elif mobile:
        try:
            validate_mobile(mobile)
        except ValidationError as error:
            errors["mobile"] = error.messages
    elif email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = [_("Enter a valid e-mail address.")]
    roles = ordered_roles(roles or [])
    if not roles:
        errors["roles"] = [_("Choose at least one role.")]
    field = "mobile" if mobile else "email"
    if field not in errors and (mobile or email):
        user = _existing_user(mobile=mobile, email=email)
        member = user and Membership.objects.filter(user=user, tenant=require_current_tenant()).first()
        if member is not None:
            errors[field] = [
                _("%(name)s is already on the staff list; reactivate them there.")
                if not member.is_active
                else _("%(name)s is already a member of this firm.")
            ]
            errors[field] = [text % {"name": user} for text in errors[field]]
        elif StaffInvitation.objects.filter(
            mobile=mobile, email=email, accepted_at__isnull=True, withdrawn_at__isnull=True
        ).exists():
            errors[field] = [_("This address has an open invitation already; send it again from the staff list.")]
    if errors:
        raise ValidationError(errors)
    return {"name": name, "mobile": mobile, "email": email, "roles": roles}


def invitation_link(invitation: StaffInvitation) -> str:
    return settings.SITE_URL + reverse("accounts:invitation", args=[make_token(invitation, salt=INVITATION_SALT)])


def _send_invitation(invitation: StaffInvitation) -> None:
    firm = require_current_tenant()
    body = _(
        "%(firm)s invites you to join its team on RenoCRM. Set your password here (valid until %(until)s): %(url)s"
    )
    values = {
        "firm": firm.display_name,
        "until": timezone.localtime(invitation.expires_at, firm.zone).strftime("%Y-%m-%d %H:%M"),
        "url": invitation_link(invitation),
    }
    notification_send(
        channel=Notification.Channel.SMS if invitation.mobile else Notification.Channel.EMAIL,
        recipient=invitation.address,
        subject=_("Join %(firm)s on RenoCRM") % values,
        body=body % values,
        idempotency_key=f"staff-invitation:{invitation.pk}:{invitation.sends}",
        sms_template="staff.invitation" if invitation.mobile else "",
        sms_params=values if invitation.mobile else None,
        credential=True,
    )


@transaction.atomic
def staff_invite(*, name: str, mobile: str = "", email: str = "", roles, by) -> StaffInvitation:
    """Invite someone; ``by`` None is a partner's key, which may not invite an admin."""
    _lock_firm()
    data = invitation_check(name=name, mobile=mobile, email=email, roles=roles)
    _refuse_admin_by_key(by=by, roles=data["roles"], field="roles")
    invitation = StaffInvitation.objects.create(**data, invited_by=by, expires_at=timezone.now() + INVITATION_LIFETIME)
    _send_invitation(invitation)
    _record(StaffChange.Action.INVITED, by=by, invitation=invitation, roles=invitation.roles)
    return invitation


def _open_invitation(invitation: StaffInvitation) -> StaffInvitation:
    invitation = StaffInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at or invitation.withdrawn_at:
        raise ValidationError(_("This invitation is no longer open."))
    return invitation


@transaction.atomic
def staff_invitation_resend(*, invitation: StaffInvitation, by) -> StaffInvitation:
    """Send the link again, valid for a fresh week."""
    invitation = _open_invitation(invitation)
    invitation.sends += 1
    invitation.expires_at = timezone.now() + INVITATION_LIFETIME
    invitation.save(update_fields=["sends", "expires_at"])
    _send_invitation(invitation)
    _record(StaffChange.Action.INVITATION_RESENT, by=by, invitation=invitation)
    return invitation


@transaction.atomic
def staff_invitation_withdraw(*, invitation: StaffInvitation, by) -> StaffInvitation:
    invitation = _open_invitation(invitation)
    invitation.withdrawn_at = timezone.now()
    invitation.save(update_fields=["withdrawn_at"])
    _record(StaffChange.Action.INVITATION_WITHDRAWN, by=by, invitation=invitation)
    return invitation


def invitation_open(token: str):
    """(firm, invitation, "") for a link that may still be accepted, else (firm or None, None, why): "invalid",
    "expired", "inactive" (the firm), "used" or "withdrawn". The caller works inside ``tenant_context(firm)``."""
    firm, pk, problem = read_token(token, salt=INVITATION_SALT)
    if problem:
        return None, None, problem
    with tenant_context(firm):
        invitation = StaffInvitation.objects.filter(pk=pk).first()
    if invitation is None:
        return None, None, "invalid"
    if invitation.withdrawn_at:
        return firm, None, "withdrawn"
    if invitation.accepted_at:
        return firm, None, "used"
    if invitation.expires_at <= timezone.now():
        return firm, None, "expired"
    return firm, invitation, ""


def invitation_account(invitation: StaffInvitation):
    """The existing account the invitee signs in with, if they have one (from another firm)."""
    return _existing_user(mobile=invitation.mobile, email=invitation.email)


@transaction.atomic
def invitation_accept(*, invitation: StaffInvitation, password: str = "", name: str = "", signed_in=None):
    """Join the firm. A newcomer's account is made with ``password``; someone who already has an account
    joins with it, once the caller has authenticated them (``signed_in``: the page signs them in with their
    own password, so wrong guesses are locked out like any sign-in). Returns the user, to be signed in.
    Call inside the firm's context."""
    invitation = StaffInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at or invitation.withdrawn_at or invitation.expires_at <= timezone.now():
        raise ValidationError(_("This invitation is no longer open."))
    user = invitation_account(invitation)
    if user is not None:
        if signed_in is None or signed_in.pk != user.pk or not user.is_active:
            raise ValidationError({"password": _("That is not the password of your existing account.")})
        if Membership.objects.filter(user=user, tenant=require_current_tenant()).exists():
            # A member who left comes back only when an admin reactivates them, never through an old link.
            raise ValidationError(_("You are already on this firm's staff list; ask an admin to reactivate you."))
    else:
        user = get_user_model()(
            username=invitation.address,
            name=(name or invitation.name).strip(),
            phone=invitation.mobile,
            email=invitation.email,
        )
        try:
            password_validation.validate_password(password, user)
        except ValidationError as error:
            raise ValidationError({"password": error.messages}) from None
        user.set_password(password)
        user.save()
    membership = Membership.objects.create(user=user, tenant=require_current_tenant(), roles=invitation.roles)
    invitation.accepted_at, invitation.accepted_by = timezone.now(), user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    _withdraw_invitations_to(user, by=user, keep=invitation)
    _record(StaffChange.Action.JOINED, by=user, member=user, invitation=invitation, roles=membership.roles)
    return user


# Members ----------------------------------------------------------------------------------------------------


def _lock(membership: Membership) -> Membership:
    _lock_firm()
    return Membership.objects.select_for_update().get(pk=membership.pk, tenant=require_current_tenant())


def _require_another_admin(membership: Membership, *, field: str) -> None:
    """Refuse to leave the firm without an active admin."""
    admins = list(
        Membership.objects.select_for_update()
        .filter(tenant=require_current_tenant(), is_active=True, user__is_active=True, roles__contains=[Role.ADMIN])
        .values_list("pk", flat=True)
    )
    if admins == [membership.pk]:
        raise ValidationError({field: _("The firm's last active admin stays an admin: make someone else admin first.")})


@transaction.atomic
def staff_roles_set(*, membership: Membership, roles, by) -> Membership:
    """Give a member these roles; they apply from the member's next request."""
    membership = _lock(membership)
    roles = ordered_roles(roles or [])
    if not roles:
        raise ValidationError({"roles": _("Choose at least one role.")})
    _refuse_admin_by_key(by=by, roles=roles, membership=membership, field="roles")
    if roles == membership.roles:
        return membership
    if membership.has_role(Role.ADMIN) and Role.ADMIN not in roles:
        _require_another_admin(membership, field="roles")
    before = membership.roles
    membership.roles = roles
    membership.save(update_fields=["roles"])
    _record(StaffChange.Action.ROLES_CHANGED, by=by, member=membership.user, roles=[before, roles])
    return membership


# The duty map ------------------------------------------------------------------------------------------------


def firm_duties() -> list[tuple[str, str, list[str], list[str]]]:
    """The current firm's duty map: (duty, label, the roles holding it, its default roles) per duty, roles
    (their values) in Role's order, a firm admin always among them."""
    chosen = require_current_tenant().duties
    return [
        (duty, str(label), ordered_roles(duty_roles(duty, chosen)), ordered_roles(duty_roles(duty)))
        for duty, label in DUTIES.items()
    ]


@transaction.atomic
def firm_duties_set(*, duties: dict, by) -> list[tuple[str, str, list[str], list[str]]]:
    """Give each duty of ``duties`` ({duty: [role, …]}) to those roles; a duty left out keeps its holders. A
    firm admin keeps every duty whether named or not, so none is ever left to nobody. Only a signed-in admin
    changes the map, never a partner's key. Every refusal at once, on its duty; the change is recorded in the
    staff history (and the audit trail) and applies from each member's next request."""
    if by is None:
        raise ValidationError({"duties": _("A firm's duties are changed by a signed-in firm admin, not an API key.")})
    errors = {}
    for duty, roles in duties.items():
        if duty not in DUTIES:
            errors[duty] = [_("Not a duty a firm can give: %(duty)s.") % {"duty": duty}]
        elif not isinstance(roles, list | tuple | set | frozenset) or any(role not in Role.values for role in roles):
            errors[duty] = [_("Give a list of roles from: %(roles)s.") % {"roles": ", ".join(Role.values)}]
    if errors:
        raise ValidationError(errors)
    firm = Tenant.objects.select_for_update().get(pk=require_current_tenant().pk)
    chosen = dict(firm.duties)
    changes = {}
    for duty, roles in duties.items():
        before, after = ordered_roles(duty_roles(duty, chosen)), ordered_roles({Role.ADMIN, *roles})
        if before == after:
            continue
        changes[duty] = [before, after]
        # Only a choice that differs from the default is stored: a default changed later reaches the firm.
        if after == ordered_roles(duty_roles(duty)):
            chosen.pop(duty, None)
        else:
            chosen[duty] = after
    if changes:
        firm.duties = chosen
        firm.save(update_fields=["duties"])
        _record(StaffChange.Action.DUTIES_CHANGED, by=by, duties=changes)
        # The firm object of this request reads the new map too.
        require_current_tenant().duties = chosen
    return firm_duties()


def deactivation_check(*, membership: Membership, successors: dict, by) -> list[tuple]:
    """What moves to whom when ``membership`` leaves: [(kind, count, successor)], or every reason it cannot
    happen yet at once: a kind of open work with nobody (fitting) to take it, the last admin, oneself."""
    errors: dict[str, list[str]] = {}
    user = membership.user
    if not membership.is_active:
        raise ValidationError(_("%(name)s is already deactivated.") % {"name": user})
    try:
        _refuse_admin_by_key(by=by, membership=membership, field="__all__")
    except ValidationError as error:
        errors.update(error.message_dict)
    if by is not None and user.pk == by.pk:
        errors["__all__"] = [_("You cannot deactivate yourself; another admin can.")]
    elif membership.has_role(Role.ADMIN):
        try:
            _require_another_admin(membership, field="__all__")
        except ValidationError as error:
            errors.update(error.message_dict)
    moves = []
    for held in open_work.work_held_by(user):
        key = held.kind.key
        successor = successors.get(key)
        if successor is None:
            errors[key] = [_("Choose who takes over these %(count)s.") % {"count": held.count}]
            continue
        if successor.pk == user.pk:
            errors[key] = [_("Choose someone other than the person leaving.")]
            continue
        try:
            require_staff_role(successor, roles=held.kind.roles, field=key)
        except ValidationError as error:
            errors.update(error.message_dict)
            continue
        moves.append((held.kind, held.count, successor))
    if errors:
        raise ValidationError(errors)
    return moves


@transaction.atomic
def staff_deactivate(*, membership: Membership, successors: dict, by) -> Membership:
    """The member leaves the firm: their open work goes to the chosen successors in the same step, their
    sessions end at their next request, their calendar address stops and the notices still waiting for them
    are not sent. Their records keep naming them (history stays true); they can be reactivated."""
    membership = _lock(membership)
    moves = deactivation_check(membership=membership, successors=successors, by=by)
    user = membership.user
    reassigned = {}
    for kind, _count, successor in moves:
        moved = kind.held_by(user).update(**{kind.field: successor})
        reassigned[kind.key] = [moved, successor.pk]
    membership.is_active = False
    membership.save(update_fields=["is_active"])
    user.sessions_ended_at = timezone.now()
    user.save(update_fields=["sessions_ended_at"])
    calendar_feed_revoke(user=user)
    _withdraw_invitations_to(user, by=by)
    addresses = [address for address in (user.phone, user.email) if address]
    withdrawn = Notification.objects.filter(status=Notification.Status.PENDING, recipient__in=addresses).update(
        status=Notification.Status.FAILED, last_error="Not sent: the recipient has left the firm."
    )
    _record(StaffChange.Action.DEACTIVATED, by=by, member=user, reassigned=reassigned, notices_withdrawn=withdrawn)
    return membership


@transaction.atomic
def staff_reactivate(*, membership: Membership, by) -> Membership:
    membership = _lock(membership)
    if membership.is_active:
        raise ValidationError(_("%(name)s is already active.") % {"name": membership.user})
    _refuse_admin_by_key(by=by, membership=membership, field="__all__")
    if not membership.user.is_active:
        raise ValidationError(_("This account has been closed on the platform; invite the person again."))
    membership.is_active = True
    membership.save(update_fields=["is_active"])
    _record(StaffChange.Action.REACTIVATED, by=by, member=membership.user)
    return membership


def password_reset_link(user) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return settings.SITE_URL + reverse("accounts:password-reset-confirm", args=[uid, token])


@transaction.atomic
def staff_password_reset_send(*, membership: Membership, by) -> Notification:
    """Send the member a link to set a new password (by SMS to their phone, else e-mail)."""
    membership = _lock(membership)
    user = membership.user
    if not membership.is_active or not user.is_active:
        raise ValidationError(_("Reactivate %(name)s first.") % {"name": user})
    if not (user.phone or user.email):
        raise ValidationError(_("%(name)s has neither a mobile number nor an e-mail address.") % {"name": user})
    firm = require_current_tenant()
    values = {"firm": firm.display_name, "url": password_reset_link(user)}
    change = _record(StaffChange.Action.PASSWORD_RESET_SENT, by=by, member=user)
    return notification_send(
        channel=Notification.Channel.SMS if user.phone else Notification.Channel.EMAIL,
        recipient=user.phone or user.email,
        subject=_("Set a new password for %(firm)s") % values,
        body=_("%(firm)s: set a new RenoCRM password here: %(url)s") % values,
        idempotency_key=f"staff-password-reset:{change.pk}",
        sms_template="staff.password_reset" if user.phone else "",
        sms_params=values if user.phone else None,
        credential=True,
    )
