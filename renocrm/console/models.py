"""The operator's record of what happened to each firm's account. A platform table: it belongs to no firm."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from renocrm.tenancy.models import Tenant


class FirmStatusChange(models.Model):
    """One change of a firm's status by the operator (approve, suspend, reactivate): who, when, why."""

    # Named "firm", not "tenant": a column tenant_id marks a firm-owned table (tests/tenancy/test_catalog.py).
    firm = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="status_changes", verbose_name=_("firm"))
    from_status = models.CharField(_("from"), max_length=10, choices=Tenant.Status.choices)
    to_status = models.CharField(_("to"), max_length=10, choices=Tenant.Status.choices)
    reason = models.TextField(_("reason"), blank=True)
    # The operator's user; kept when the user is deleted, like the audit trail's actor.
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    changed_at = models.DateTimeField(_("changed"), default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["firm", "-changed_at"], name="firm_status_change_firm_at")]
        verbose_name = _("firm status change")

    def __str__(self) -> str:
        return f"{self.firm}: {self.from_status} → {self.to_status}"
