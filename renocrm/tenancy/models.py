"""Firms and the base every firm-owned model derives from."""

from __future__ import annotations

import datetime
import uuid
import zoneinfo
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from .context import require_current_tenant


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


def logo_upload_to(instance, filename: str) -> str:
    """Under the firm's own prefix, which the signed media view checks (see renocrm.uploads.upload_to)."""
    extension = PurePosixPath(filename).suffix.lower()[:10]
    return f"firms/{instance.pk}/tenancy/logo/{uuid.uuid4().hex}{extension}"


class Tenant(models.Model):
    """A renovation firm. A platform table: the firm itself is not scoped to a firm."""

    class Status(models.TextChoices):
        # Signed up while the installation asks the operator to approve new firms.
        PENDING = "pending", _("awaiting approval")
        TRIAL = "trial", _("trial")
        ACTIVE = "active", _("active")
        # Its users and API keys are refused and beat skips it; its data is kept.
        SUSPENDED = "suspended", _("suspended")

    OPERATING = (Status.TRIAL, Status.ACTIVE)

    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=40, blank=True)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans")
    phone = models.CharField(_("firm phone"), max_length=30, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    business_licence_number = models.CharField(_("business licence number"), max_length=40, blank=True)
    # Shown on letterheads and the homeowner portal.
    logo = models.ImageField(_("logo"), upload_to=logo_upload_to, blank=True)
    working_hours_start = models.TimeField(_("working hours from"), default=datetime.time(9, 0))
    working_hours_end = models.TimeField(_("working hours until"), default=datetime.time(18, 0))
    # Firm admins must sign in with a second factor (TOTP) once this is on.
    require_admin_two_factor = models.BooleanField(_("require two-factor sign-in for firm admins"), default=False)
    # The firm's duty map: {duty: [role, …]} for each duty (renocrm.accounts.roles.DUTIES) the firm gives to other
    # roles than the defaults; a duty left out keeps its default. Read with the firm on every request, so a
    # permission check costs no query.
    duties = models.JSONField(_("duties"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # Derived from status, so every "is this firm operating" filter reads one column.
    is_active = models.GeneratedField(
        expression=models.Q(status__in=OPERATING), output_field=models.BooleanField(), db_persist=True
    )
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("firm")
        verbose_name_plural = _("firms")

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return self.short_name or self.name

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
      another firm's row), the audit trigger (unless ``audited = False``) and the trigger keeping
      ``updated_at`` (``renocrm_touch``);
    - system checks that every unique constraint and every many-to-many goes through the tenant.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, editable=False, related_name="+")
    # When the row last changed: set by every save, and by the database on any UPDATE that does not set it
    # itself (``renocrm_touch``), bulk ``update()`` included — what a partner's mirror polls by.
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_default=Now())

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
