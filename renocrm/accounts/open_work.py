"""The open work a staff member holds, which must find a new owner before they leave.

Each lifecycle app registers, from its ``AppConfig.ready``, the kinds of work it gives to a person: a model,
the column naming the person, which of its rows are still open, and which roles may take them over. The staff
page walks what is registered, so the accounts app never imports a lifecycle stage.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Q, Window

from .roles import Role


@dataclass(frozen=True)
class WorkKind:
    key: str  # "leads.customer_manager"
    label: object  # lazy text: "Open leads (customer manager)"
    model: type
    field: str  # the column naming the person
    open: Q  # which rows are still open work
    roles: frozenset[Role]  # who may take it over

    def held_by(self, user):
        return self.model.objects.filter(self.open, **{self.field: user})


_kinds: dict[str, WorkKind] = {}


def register(key: str, *, label, model, field: str, open: Q | None = None, roles: Iterable[Role]) -> WorkKind:
    """Register (or replace, on a second ``ready``) the kind of work ``key``."""
    kind = WorkKind(key=key, label=label, model=model, field=field, open=open or Q(), roles=frozenset(roles))
    _kinds[key] = kind
    return kind


def kinds() -> list[WorkKind]:
    return list(_kinds.values())


def kind(key: str) -> WorkKind:
    return _kinds[key]


@dataclass(frozen=True)
class HeldWork:
    kind: WorkKind
    count: int
    ids: list[int]  # the first records' ids (up to ``first``)


def work_held_by(user, *, first: int = 20) -> list[HeldWork]:
    """What ``user`` holds in the current firm, kind by kind (only kinds with something open): one query a
    kind, whatever they hold."""
    held = []
    for work in kinds():
        rows = list(
            work.held_by(user).annotate(held=Window(Count("pk"))).order_by("pk").values_list("pk", "held")[:first]
        )
        if rows:
            held.append(HeldWork(kind=work, count=rows[0][1], ids=[pk for pk, _count in rows]))
    return held
