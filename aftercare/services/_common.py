"""What the aftercare sweeps share: reaching staff, and a row inserted once under its unique key."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from renocrm.accounts.staff import firm_admins
from renocrm.outbox.services import notify_staff

# Reaching people -----------------------------------------------------------------------------------------------


def tell_staff(users_with_keys: list[tuple], *, subject: str, body: str, link: str = "") -> int:
    sent = [
        notify_staff(user, subject=subject, body=body, idempotency_key=key, link=link) for user, key in users_with_keys
    ]
    return sum(1 for notification in sent if notification is not None)


def staff_for(agent, key: str) -> list[tuple]:
    """The agent with the key, else each of the firm's admins with the key and their id."""
    if agent is not None and agent.is_active:
        return [(agent, key)]
    return [(admin, f"{key}:{admin.pk}") for admin in firm_admins()]


def inserted(model, **fields) -> object | None:
    """Insert a row guarded by a unique key; None when another run has it already (or is inserting it: the
    insert waits for that run to finish and then yields to it)."""
    try:
        with transaction.atomic():
            return model.objects.create(**fields)
    except IntegrityError:
        return None
