"""The Celery app and the base for tasks that work on one firm's data."""

import os

from celery import Celery, Task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renocrm.settings.local")


class FirmTask(Task):
    """Runs the task body inside one firm's tenant context.

    The firm travels as the ``tenant_id`` keyword. ``apply_async`` fills it from the current context, so
    a service that enqueues a task (after commit) passes its firm along without saying so. A task that
    arrives without a firm raises instead of running unscoped. Tasks take ids, never model instances,
    and must be safe to run twice: acknowledgement is late, so a killed worker's task runs again.
    """

    abstract = True
    # The task function does not take tenant_id itself; __call__ consumes it.
    typing = False

    def apply_async(self, args=None, kwargs=None, **options):
        from renocrm.tenancy.context import get_current_tenant

        kwargs = dict(kwargs or {})
        if "tenant_id" not in kwargs:
            tenant = get_current_tenant()
            if tenant is not None:
                kwargs["tenant_id"] = tenant.pk
        return super().apply_async(args=args, kwargs=kwargs, **options)

    def __call__(self, *args, **kwargs):
        from renocrm.tenancy.context import TenantScopeError, tenant_context
        from renocrm.tenancy.models import Tenant

        tenant_id = kwargs.pop("tenant_id", None)
        if tenant_id is None:
            raise TenantScopeError(f"Task {self.name} was sent without a tenant_id.")
        tenant = Tenant.objects.get(pk=tenant_id)
        with tenant_context(tenant):
            return super().__call__(*args, **kwargs)


def each_active_firm(task) -> None:
    """A beat sweeper's fan-out: enqueue the FirmTask ``task`` once per active firm, so each firm's work
    runs in its own context (and its own transaction)."""
    from renocrm.tenancy.models import Tenant

    for tenant_id in Tenant.objects.filter(is_active=True).values_list("pk", flat=True):
        task.delay(tenant_id=tenant_id)


app = Celery("renocrm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
