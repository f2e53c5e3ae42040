from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from renocrm.tenancy.context import get_current_tenant
from renocrm.tenancy.models import Tenant, TenantModel

from .roles import DUTIES, Role, role_has


class User(AbstractUser):
    """A person who signs in. Platform-wide: one user may work for several firms."""

    name = models.CharField(_("full name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    # The person's own choice of page language; blank: the firm's language.
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, blank=True)
    # Sessions begun before this moment end at their next request (set when the person is deactivated).
    sessions_ended_at = models.DateTimeField(null=True, blank=True, editable=False)

    def __str__(self) -> str:
        return self.name or self.username


class Membership(models.Model):
    """A user's roles in one firm. A platform table: the firm switcher lists a user's firms across tenants."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    # Several per person (a designer who also sells); kept in Role's order, so the first is the main one.
    roles = ArrayField(models.CharField(max_length=30, choices=Role.choices), verbose_name=_("roles"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # As on every firm-owned row (the tenancy base): what the staff list's sync reads.
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_default=Now())

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_user_per_firm"),
            models.CheckConstraint(condition=models.Q(roles__len__gt=0), name="membership_has_a_role"),
        ]
        verbose_name = _("membership")

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant} ({', '.join(str(label) for label in self.role_labels)})"

    def save(self, *args, **kwargs):
        self.roles = ordered_roles(self.roles)
        super().save(*args, **kwargs)

    @property
    def role(self) -> str:
        """The main role: what the dashboard and a page's defaults are built for."""
        return self.roles[0] if self.roles else ""

    @property
    def role_labels(self) -> list[str]:
        return [Role(role).label for role in self.roles]

    def has_role(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)

    def has_perm(self, permission: str) -> bool:
        """Whether the member may do ``permission``: by their roles, and for a duty by the firm's duty map."""
        if not self.is_active:
            return False
        duties = self.firm_duties() if permission in DUTIES else None
        return any(role_has(role, permission, duties) for role in self.roles)

    def firm_duties(self) -> dict:
        # The firm in context is already loaded with the request: reading its map costs no query.
        current = get_current_tenant()
        return (current if current is not None and current.pk == self.tenant_id else self.tenant).duties


def ordered_roles(roles) -> list[str]:
    """Distinct valid roles in Role's order (admin first)."""
    chosen = {str(role) for role in roles}
    return [role.value for role in Role if role.value in chosen]


def staff_member_field(verbose_name):
    """A record's responsible staff member (designer, foreman …): optional, kept when the person leaves
    (PROTECT), and without a reverse accessor on the user."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=verbose_name,
    )


class StaffInvitation(TenantModel):
    """An invitation to join the firm, sent by SMS or e-mail as a single-use link that expires. The invitee
    sets their password on the link's page (or, having an account already, confirms it) and becomes a member
    with the roles chosen here."""

    name = models.CharField(_("name"), max_length=100)
    # Exactly one of the two: where the link is sent and the account's sign-in name.
    mobile = models.CharField(_("mobile"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    roles = ArrayField(models.CharField(max_length=30, choices=Role.choices), verbose_name=_("roles"))
    # Nobody when a partner's key sent it.
    invited_by = staff_member_field(_("invited by"))
    expires_at = models.DateTimeField(_("expires"))
    sends = models.PositiveSmallIntegerField(_("times sent"), default=1)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("staff invitation")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(mobile="") & ~models.Q(email="")) | (~models.Q(mobile="") & models.Q(email="")),
                name="invitation_one_address",
            ),
            models.CheckConstraint(condition=models.Q(roles__len__gt=0), name="invitation_has_a_role"),
            # One open invitation per address: inviting again is "resend".
            models.UniqueConstraint(
                fields=["tenant", "mobile", "email"],
                condition=models.Q(accepted_at__isnull=True, withdrawn_at__isnull=True),
                name="invitation_one_open_per_address",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.mobile or self.email})"

    @property
    def address(self) -> str:
        return self.mobile or self.email


class StaffChange(TenantModel):
    """One change to the firm's staff, as the staff page's history shows it: who changed whom, and how."""

    class Action(models.TextChoices):
        INVITED = "invited", _("invited")
        INVITATION_RESENT = "invitation_resent", _("invitation sent again")
        INVITATION_WITHDRAWN = "invitation_withdrawn", _("invitation withdrawn")
        JOINED = "joined", _("joined")
        ROLES_CHANGED = "roles_changed", _("roles changed")
        DEACTIVATED = "deactivated", _("deactivated")
        REACTIVATED = "reactivated", _("reactivated")
        PASSWORD_RESET_SENT = "password_reset_sent", _("password-reset link sent")
        DUTIES_CHANGED = "duties_changed", _("duties changed")

    # People stay members (deactivated, never deleted), so the history keeps naming them.
    member = staff_member_field(_("staff member"))
    invitation = models.ForeignKey(
        StaffInvitation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invitation"),
    )
    action = models.CharField(_("action"), max_length=30, choices=Action.choices)
    # e.g. {"roles": [[old…], [new…]]}, {"reassigned": {"leads.customer_manager": [count, to user id]}} or
    # {"duties": {"payments.manage": [[old roles…], [new roles…]]}}
    details = models.JSONField(_("details"), default=dict, blank=True)
    # Nobody when a partner's key made the change.
    by = staff_member_field(_("changed by"))
    at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("staff change")
        indexes = [models.Index(fields=["tenant", "-at"], name="staff_change_tenant_at")]

    def duty_changes(self) -> list[tuple[str, str, str]]:
        """(duty, roles before, roles after) of a duties change, in words."""

        def words(roles):
            return "、".join(str(Role(role).label) for role in roles if role in Role.values)

        return [
            (str(DUTIES.get(duty, duty)), words(before), words(after))
            for duty, (before, after) in self.details.get("duties", {}).items()
        ]


class CalendarFeed(TenantModel):
    """A staff member's private calendar address in one firm (``/calendar/<token>.ics``): their agenda for
    the phone's calendar app to subscribe to. Only the token's digest is kept, so its address is shown once,
    when made; revoked, it answers 404 from the next request. One active address per person and firm."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("staff member")
    )
    # Public: finds the row before the firm is known; the rest of the token is the secret.
    prefix = models.CharField(_("address prefix"), max_length=16)
    hashed_token = models.CharField(_("address digest"), max_length=64)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    # The token's own prefix makes its row readable before the firm is known (see calendar_feeds.feed_find).
    rls_also_readable_when = "prefix = current_setting('app.calendar_feed_prefix', true)"

    class Meta:
        verbose_name = _("calendar feed")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "prefix"], name="calendar_feed_unique_prefix"),
            models.UniqueConstraint(
                fields=["tenant", "user"], condition=models.Q(revoked_at__isnull=True), name="calendar_feed_one_active"
            ),
        ]
        indexes = [models.Index(fields=["prefix"], name="calendar_feed_prefix")]

    def __str__(self) -> str:
        return f"{self.user} ({self.prefix})"
