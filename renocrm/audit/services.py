"""The audit trail's one hand-written entry: a change to a platform table (the firm's own row, a user's
authenticator) recorded in the firm's trail, as the database trigger records changes to the firm's tables."""

from django.utils import timezone

from renocrm.observability import current_request_id

from .models import AuditEvent


def platform_change_record(*, tenant, actor_id, action: str, table: str, row_id, changes: dict) -> AuditEvent:
    return AuditEvent.objects.create(
        tenant=tenant,
        at=timezone.now(),
        action=action,
        table_name=table,
        row_id=str(row_id),
        actor_id=actor_id,
        request_id=current_request_id(),
        changes=changes,
    )
