"""Personal-data protection (PIPL): audited looks at contact details, homeowners' export and erasure
requests, the firm's retention rule for lost leads, and the firm's own full export."""

from datetime import timedelta

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from renocrm.tenancy.models import TenantModel


class ContactReveal(TenantModel):
    """One unmasking: a staff member looked at a record's full mobile number or address (on a page, or read
    through the API), or a partner's API key with the contacts scope was sent it. Exactly one of ``user`` and
    ``api_key`` says who."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    api_key = models.ForeignKey(
        "api.ApiKey", on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("API key")
    )
    record_type = models.CharField(_("record type"), max_length=60)  # "leads.customer"
    record_id = models.CharField(_("record"), max_length=64)
    field = models.CharField(_("field"), max_length=40)
    page = models.CharField(_("page"), max_length=300, blank=True)  # or the API request's path
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False, api_key__isnull=True)
                | models.Q(user__isnull=True, api_key__isnull=False),
                name="contact_reveal_user_or_key",
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "-at"], name="contact_reveal_tenant_at"),
            models.Index(fields=["tenant", "record_type", "record_id"], name="contact_reveal_record"),
        ]
        verbose_name = _("contact reveal")


class PrivacySettings(TenantModel):
    """A firm's retention rule: lost leads are anonymised this long after they were lost."""

    lost_lead_retention_days = models.PositiveIntegerField(
        _("keep lost leads for (days)"), default=730, validators=[MinValueValidator(30)]
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="privacy_settings_one_per_firm")]
        verbose_name = _("privacy settings")


class DataRequest(TenantModel):
    """A homeowner's request about their own data, kept as the firm's record that it was honoured.

    The subject is named by type and id rather than a foreign key: the platform knows no lifecycle app, and
    an erased customer's row stays (anonymised) so the id still means something."""

    class Kind(models.TextChoices):
        EXPORT = "export", _("Data export")
        ERASURE = "erasure", _("Erasure")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    subject_type = models.CharField(max_length=60)
    subject_id = models.CharField(max_length=64)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=300, blank=True, help_text=_("How the homeowner asked."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "subject_type", "subject_id"], name="data_request_subject")]
        verbose_name = _("data request")


def firm_export_path(instance, filename):
    return f"firm-exports/{instance.tenant_id}/{filename}"


class FirmExport(TenantModel):
    """The firm's own data, every record as CSV and JSON with its attachments, in one archive."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Being built")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", pgettext_lazy("firm export", "Expired")

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    archive = models.FileField(upload_to=firm_export_path, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "-created_at"], name="firm_export_tenant_created")]
        verbose_name = _("firm export")

    @property
    def expires_at(self):
        """When a ready archive's file is deleted (``settings.PERSONAL_EXPORT_RETENTION_DAYS`` after it was
        built): it holds every homeowner's personal data, so it is not kept for longer than it takes to
        download it."""
        if self.finished_at is None or self.status != self.Status.DONE:
            return None
        return self.finished_at + export_retention()

    @property
    def is_expired(self) -> bool:
        if self.status == self.Status.EXPIRED:
            return True
        return self.expires_at is not None and self.expires_at <= timezone.now()


def export_retention() -> timedelta:
    return timedelta(days=settings.PERSONAL_EXPORT_RETENTION_DAYS)
