from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from renocrm.tenancy.models import TenantModel


class AuditEvent(TenantModel):
    """One row per insert, update or delete of firm data, written by the database trigger
    ``renocrm_audit()`` (see renocrm/tenancy/db.py) so bulk ``update()``/``delete()`` are recorded too.
    Append-only for the application role."""

    class Action(models.TextChoices):
        INSERT = "insert", _("created")
        UPDATE = "update", _("changed")
        DELETE = "delete", _("deleted")

    at = models.DateTimeField(_("when"))
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    table_name = models.CharField(_("table"), max_length=100)
    row_id = models.CharField(_("record"), max_length=64)
    # No database constraint: the trail outlives the user and the record it names.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    # The partner's API key that made the change (API writes have no user).
    api_key = models.ForeignKey(
        "api.ApiKey", on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    # For an update: {field: [old, new]}; for an insert or delete: the whole row.
    changes = models.JSONField(_("changes"), default=dict)

    audited = False

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "-at"], name="audit_tenant_at"),
            models.Index(fields=["tenant", "table_name", "row_id"], name="audit_tenant_row"),
        ]
        verbose_name = _("audit event")
