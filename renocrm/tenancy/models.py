"""Firms and the base every firm-owned model derives from."""

from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from .context import require_current_tenant


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


class Tenant(models.Model):
    """A renovation firm. A platform table: the firm itself is not scoped to a firm."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    phone = models.CharField(_("firm phone"), max_length=30, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("firm")
        verbose_name_plural = _("firms")

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class TenantQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        tenant = require_current_tenant()
        for obj in objs:
            if obj.tenant_id is None:
                obj.tenant = tenant
        return super().bulk_create(objs, *args, **kwargs)


class CurrentTenantId(models.Expression):
    """The current firm's id, read when the SQL is compiled rather than when the queryset is built.

    So ``Customer.objects.all()`` may be written at import time (form fields, filter sets) and is still
    scoped to whichever firm is current when it runs — and raises if none is.
    """

    output_field = models.BigIntegerField()

    def as_sql(self, compiler, connection):
        return "%s", [require_current_tenant().pk]


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """Scoped to the current firm; running a query with no current firm raises TenantScopeError."""

    def get_queryset(self):
        return super().get_queryset().filter(tenant_id=CurrentTenantId())


class TenantModel(models.Model):
    """Base of every firm-owned model.

    What deriving from it brings, without anyone having to remember:
    - a non-null ``tenant`` foreign key, filled from the current firm and never editable through forms or
      serializers;
    - ``objects`` scoped to the current firm, raising when there is none;
    - after every ``migrate`` (see ``renocrm.tenancy.db``): a forced row-level-security policy keyed on
      the transaction-local ``app.tenant_id``, a unique ``(tenant_id, id)`` key, a composite foreign key
      ``(tenant_id, <fk>_id)`` for every foreign key to another tenant model (a row can never point at
      another firm's row), and the audit trigger (unless ``audited = False``);
    - system checks that every unique constraint and every many-to-many goes through the tenant.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, editable=False, related_name="+")

    objects = TenantManager()

    audited = True
    # Extra SQL under which a row is readable without the firm being set (used by API-key look-up only).
    rls_also_readable_when: str | None = None

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        # The firm comes from the request or task context, never from user input.
        if self.tenant_id is None:
            self.tenant = require_current_tenant()
        super().save(*args, **kwargs)
