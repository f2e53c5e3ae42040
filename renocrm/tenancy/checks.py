"""System checks: a tenant model's keys and many-to-many relations must go through the tenant."""

from django.core import checks

from .db import tenant_models


@checks.register(checks.Tags.models)
def check_tenant_models(app_configs=None, **kwargs):
    errors = []
    for model in tenant_models():
        label = model._meta.label
        for constraint in model._meta.constraints:
            fields = getattr(constraint, "fields", None)
            if getattr(constraint, "condition", None) is None and fields and "tenant" not in fields:
                errors.append(
                    checks.Error(
                        f"{label}: unique constraint {constraint.name!r} does not include the tenant.",
                        hint="Two firms may hold the same value; put 'tenant' first in the constraint's fields.",
                        obj=model,
                        id="tenancy.E001",
                    )
                )
        for field in model._meta.local_fields:
            if field.unique and not field.primary_key:
                errors.append(
                    checks.Error(
                        f"{label}.{field.name} is unique across firms.",
                        hint="Use a UniqueConstraint with ('tenant', field) instead of unique=True.",
                        obj=model,
                        id="tenancy.E002",
                    )
                )
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through
            if through._meta.auto_created and field.related_model in tenant_models():
                errors.append(
                    checks.Error(
                        f"{label}.{field.name} links firm-owned rows through an automatic table without a tenant.",
                        hint="Give the ManyToManyField a through model that derives from TenantModel.",
                        obj=model,
                        id="tenancy.E003",
                    )
                )
    return errors
