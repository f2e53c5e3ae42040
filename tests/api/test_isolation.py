"""Firm A's rows are invisible to firm B through every firm-scoped API route: lists leave them out, and
their ids answer exactly as a missing id does (404, same body). Routes are found by walking the URL conf,
so a new app's routes are covered by adding nothing here — only a factory for its model."""

import pytest
from django.urls import reverse

from renocrm.tenancy.context import tenant_context
from tests.factories import ApiKeyFactory, MembershipFactory
from tests.registry import factories_by_model, firm_api_routes

LIST_ROUTES = [(name, cls) for name, cls, actions, _ in firm_api_routes() if "list" in actions.values()]
DETAIL_ROUTES = [(name, cls, actions) for name, cls, actions, _ in firm_api_routes() if "retrieve" in actions.values()]
WRITE_DETAIL_ROUTES = sorted(
    {
        (name, cls, method)
        for name, cls, actions, takes_pk in firm_api_routes()
        if takes_pk
        for method in actions
        if method in ("patch", "put", "delete", "post") and method in cls.http_method_names
    },
    key=lambda route: (route[0], route[2]),
)


def make_row(model, firm, **fields):
    factory = factories_by_model().get(model)
    assert factory is not None, f"No factory for {model._meta.label}: add one to a tests/**/factories.py"
    with tenant_context(firm):
        return factory(**fields)


def owned_by(cls, user) -> dict:
    """A route of each person's own rows (``owner_field``, e.g. notices): the fields that make a row ``user``'s."""
    field = getattr(cls, "owner_field", None)
    return {field: user} if field else {}


@pytest.fixture
def viewers(client, firm_a, firm_b):
    """Firm B's admin session and firm B's all-scope key; firm A's admin for the positive control."""
    from django.test import Client

    b_admin = MembershipFactory(tenant=firm_b)
    a_admin = MembershipFactory(tenant=firm_a)
    with tenant_context(firm_b):
        b_key = ApiKeyFactory()
    session_b, session_a = Client(), Client()
    session_b.force_login(b_admin.user)
    session_a.force_login(a_admin.user)
    return {
        "b-session": (session_b, {}),
        "b-key": (client, {"HTTP_AUTHORIZATION": f"Api-Key {b_key.raw_key}"}),
        "a-session": (session_a, {}),
        "a-user": a_admin.user,
    }


def test_the_walk_finds_routes():
    assert {"api-key-list", "audit-event-list"} <= {name for name, _ in LIST_ROUTES}
    assert ("api-key-revoke", "post") in {(name, method) for name, _, method in WRITE_DETAIL_ROUTES}


@pytest.mark.parametrize(("name", "cls"), LIST_ROUTES, ids=[name for name, _ in LIST_ROUTES])
def test_list_leaves_out_another_firms_rows(name, cls, firm_a, viewers):
    row = make_row(cls.model, firm_a, **owned_by(cls, viewers["a-user"]))
    url = reverse(name)
    client, headers = viewers["a-session"]
    assert row.pk in ids_in(client.get(url, **headers)), "positive control: firm A sees its own row"
    for viewer in ("b-session", "b-key"):
        client, headers = viewers[viewer]
        response = client.get(url, **headers)
        if viewer == "b-key" and getattr(cls, "owner_field", None):
            assert response.status_code == 403, response.content  # a key speaks for no person
            continue
        assert response.status_code == 200, (viewer, response.content)
        assert row.pk not in ids_in(response), viewer


@pytest.mark.parametrize(("name", "cls", "actions"), DETAIL_ROUTES, ids=[name for name, _, _ in DETAIL_ROUTES])
def test_detail_of_another_firms_row_is_404_like_a_missing_one(name, cls, actions, firm_a, viewers):
    row = make_row(cls.model, firm_a)
    client, headers = viewers["a-session"]
    assert client.get(reverse(name, kwargs={"pk": row.pk}), **headers).status_code == 200
    for viewer in ("b-session", "b-key"):
        client, headers = viewers[viewer]
        foreign = client.get(reverse(name, kwargs={"pk": row.pk}), **headers)
        missing = client.get(reverse(name, kwargs={"pk": row.pk + 10**9}), **headers)
        assert foreign.status_code == missing.status_code == 404, viewer
        assert foreign.json()["error"] == missing.json()["error"]


@pytest.mark.parametrize(
    ("name", "cls", "method"), WRITE_DETAIL_ROUTES, ids=[f"{name}-{method}" for name, _, method in WRITE_DETAIL_ROUTES]
)
def test_writes_to_another_firms_row_are_404_and_change_nothing(name, cls, method, firm_a, viewers):
    row = make_row(cls.model, firm_a)
    client, headers = viewers["b-session"]
    response = getattr(client, method)(
        reverse(name, kwargs={"pk": row.pk}), {}, content_type="application/json", **headers
    )
    assert response.status_code == 404, response.content
    with tenant_context(firm_a):
        assert cls.model.objects.filter(pk=row.pk).exists()


def ids_in(response):
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["results"]}
