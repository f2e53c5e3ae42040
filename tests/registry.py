"""Finds every factory under tests/ and every firm-scoped API route, so the generic isolation tests cover
each new model and route without being edited."""

from __future__ import annotations

import importlib
import inspect
from functools import cache
from pathlib import Path

import factory
from django.urls import URLPattern, URLResolver, get_resolver

from renocrm.api.views import FirmScopedMixin

TESTS = Path(__file__).parent


@cache
def factories_by_model() -> dict:
    found = {}
    for path in sorted(TESTS.rglob("factories.py")):
        module = importlib.import_module(".".join(path.relative_to(TESTS.parent).with_suffix("").parts))
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, factory.django.DjangoModelFactory) and obj._meta.model is not None:
                found.setdefault(obj._meta.model, obj)
    return found


def _walk(patterns, prefix="", namespace=""):
    """(route, url name with its namespace, pattern) of every URL pattern."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), namespace + (pattern.name or ""), pattern


@cache
def firm_api_routes() -> list[tuple[str, type, dict, bool]]:
    """(url name, view class, {http method: action}, takes a pk) of every firm-scoped API route."""
    routes, seen = [], set()
    for route, _, pattern in _walk(get_resolver().url_patterns):
        if "format" in route or (pattern.name, route) in seen:
            continue  # the router's format-suffix twins add nothing
        seen.add((pattern.name, route))
        cls = getattr(pattern.callback, "cls", None)
        actions = getattr(pattern.callback, "actions", None)
        if cls is not None and issubclass(cls, FirmScopedMixin) and actions:
            routes.append((pattern.name, cls, dict(actions), "<pk>" in route))
    return sorted(routes, key=lambda route: route[0])


@cache
def firm_page_routes() -> list[tuple[str, str, tuple[str, ...]]]:
    """(url name with namespace, route, parameters) of every staff page that takes a record's id."""
    routes = []
    for route, name, pattern in _walk(get_resolver().url_patterns):
        if route.startswith(("api/", "platform-admin/")) or not pattern.name:
            continue
        converters = pattern.pattern.converters
        ints = {key for key, converter in converters.items() if type(converter).__name__ == "IntConverter"}
        if ints and set(converters) - ints <= STRING_SAMPLES.keys():
            routes.append((name, route, tuple(converters)))
    return sorted(set(routes))


# Values for a record page's string parameters (besides the record's id), so such pages are walked too.
STRING_SAMPLES = {"record_type": "leads.customer", "field": "mobile"}


def page_kwargs(params: tuple[str, ...], pk: int) -> dict:
    """The URL kwargs of a walked page for the record ``pk``."""
    return {key: STRING_SAMPLES.get(key, pk) for key in params}
