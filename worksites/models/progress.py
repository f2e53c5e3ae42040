"""Progress updates posted from the site, with their photos and short videos."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from renocrm.tenancy.models import TenantModel
from renocrm.uploads import upload_to


class ProgressUpdate(TenantModel):
    worksite = models.ForeignKey("worksites.Worksite", on_delete=models.CASCADE, related_name="progress_updates")
    phase = models.ForeignKey(
        "worksites.Phase", on_delete=models.PROTECT, null=True, blank=True, related_name="progress_updates"
    )
    note = models.TextField(_("note"))
    visible_to_homeowner = models.BooleanField(_("homeowner can see it"), default=True)
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    posted_at = models.DateTimeField(_("posted at"), default=timezone.now)

    class Meta:
        verbose_name = _("progress update")
        # A worksite's updates are listed newest first by id (keyset pages, API cursor).
        indexes = [models.Index(fields=["tenant", "worksite", "-id"], name="progress_tenant_site_id")]

    def __str__(self):
        return self.note[:50]


class ProgressMedia(TenantModel):
    """One photo or video of an update. The stored file has passed ``renocrm.uploads.clean_upload``; the
    thumbnail is made afterwards by a Celery task, so it may be missing for a moment."""

    class Kind(models.TextChoices):
        IMAGE = "image", _("Photo")
        VIDEO = "video", _("Video")

    update = models.ForeignKey(ProgressUpdate, on_delete=models.CASCADE, related_name="media")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to=upload_to, max_length=300)
    thumbnail = models.FileField(_("thumbnail"), upload_to=upload_to, max_length=300, blank=True)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["update", "position", "id"]
        indexes = [models.Index(fields=["tenant", "update", "position"], name="progress_media_tenant_update")]
