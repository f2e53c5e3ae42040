from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from renocrm.tenancy.models import TenantModel
from renocrm.tokens import token_digest

hash_key = token_digest


class ApiKey(TenantModel):
    """A partner's key to one firm's API. Only its digest is stored; the key is shown once."""

    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16)
    hashed_key = models.CharField(max_length=64)
    scopes = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    rate = models.CharField(_("rate limit"), max_length=20, blank=True, help_text=_("e.g. 600/min; empty: default"))
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    # The key's own prefix makes its row readable before the firm is known (see authentication.py).
    rls_also_readable_when = "prefix = current_setting('app.api_key_prefix', true)"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "prefix"], name="apikey_unique_prefix")]
        indexes = [models.Index(fields=["prefix"], name="apikey_prefix")]
        verbose_name = _("API key")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(TenantModel):
    """The stored response to a POST carrying an Idempotency-Key, replayed for a retry of the same request."""

    principal = models.CharField(max_length=40)
    # A key is one client's per endpoint: the same key on another address is another request.
    endpoint = models.CharField(max_length=255, default="")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(default=b"")
    created_at = models.DateTimeField(auto_now_add=True)

    audited = False

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "principal", "endpoint", "key"], name="idempotency_unique_endpoint_key"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "created_at"], name="idempotency_tenant_created")]


class Deletion(TenantModel):
    """A record a list endpoint served that is gone, as the deletions feed (``/api/v1/deletions/``) shows
    it to a partner's mirror: the endpoint's name, the record's id and when — nothing of what it held.
    Written by the database on every delete of a listed table (``renocrm.api.sync``) and by the erasure of
    a person, whose records stay as anonymous rows for the firm's figures but leave every mirror."""

    class Reason(models.TextChoices):
        DELETED = "deleted", _("Deleted")
        ERASED = "erased", _("Erased on request")

    resource = models.CharField(_("type"), max_length=40)
    object_id = models.BigIntegerField(_("id"))
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices, default=Reason.DELETED)
    # When: ``updated_at`` (a deletion never changes), so the feed is read like every list.

    audited = False

    class Meta:
        verbose_name = _("deletion")
