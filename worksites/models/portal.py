"""The homeowner portal's links and the trail of what was done through each."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from renocrm.tenancy.models import TenantModel


class PortalLink(TenantModel):
    """A no-account way into one worksite's portal. The URL carries a signed token naming the firm and
    this row; the row decides whether it still works (expiry, revocation)."""

    worksite = models.ForeignKey("worksites.Worksite", on_delete=models.CASCADE, related_name="portal_links")
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sent_to = models.CharField(_("sent to"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_opened_at = models.DateTimeField(_("last opened"), null=True, blank=True)

    class Meta:
        verbose_name = _("portal link")
        indexes = [models.Index(fields=["tenant", "worksite", "-id"], name="portal_link_tenant_site")]

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class PortalAction(TenantModel):
    """Everything a homeowner does through a link, with the link, the address and the browser."""

    class Action(models.TextChoices):
        OPENED = "opened", _("Opened the portal")
        PHASE_ACCEPTED = "phase_accepted", _("Accepted a phase")
        INSPECTION_SIGNED = "inspection_signed", _("Signed an inspection")
        MATERIAL_SIGNED = "material_signed", _("Accepted a material arrival")
        MATERIAL_REJECTED = "material_rejected", _("Rejected a material arrival")
        SOLUTION_CHOSEN = "solution_chosen", _("Chose a solution")
        # Aftercare pages added to the portal by later stages.
        REPAIR_REQUESTED = "repair_requested", _("Reported a repair")
        REPAIR_CONFIRMED = "repair_confirmed", _("Confirmed a repair")
        COMPLAINT_FILED = "complaint_filed", _("Filed a complaint")
        COMPLAINT_VERDICT = "complaint_verdict", _("Gave a verdict on a complaint")

    link = models.ForeignKey(PortalLink, on_delete=models.PROTECT, related_name="actions")
    action = models.CharField(_("action"), max_length=30, choices=Action.choices)
    object_id = models.BigIntegerField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["tenant", "link", "-at"], name="portal_action_tenant_link_at")]
