from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from renocrm.tenancy.models import Tenant

from .roles import Role, role_has


class User(AbstractUser):
    """A person who signs in. Platform-wide: one user may work for several firms."""

    name = models.CharField(_("full name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)

    def __str__(self) -> str:
        return self.name or self.username


class Membership(models.Model):
    """A user's role in one firm. A platform table: the firm switcher lists a user's firms across tenants."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_user_per_firm")]
        verbose_name = _("membership")

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant} ({self.get_role_display()})"

    def has_perm(self, permission: str) -> bool:
        return self.is_active and role_has(self.role, permission)


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
