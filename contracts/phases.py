"""The construction phases an instalment may wait for.

Construction owns the phase kinds, but it is a later stage that contracts may not import: worksites registers
where they come from in its ``AppConfig.ready`` (``register_phase_kinds``). An instalment falls due when
construction reports its phase accepted by that kind, so a kind construction does not know would never fall
due; the schedule is checked against these when it is set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

_source: Callable[[], Iterable[tuple[str, str]]] | None = None


def register_phase_kinds(source: Callable[[], Iterable[tuple[str, str]]]) -> None:
    """``source()`` answers the phase kinds as (value, label) choices; registering again replaces it."""
    global _source
    _source = source


def phase_kind_choices() -> list[tuple[str, str]]:
    """The kinds an instalment may name, in construction's order; none until construction registered them."""
    return list(_source()) if _source is not None else []
