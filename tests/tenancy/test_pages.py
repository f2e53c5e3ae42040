"""Every staff page that takes a record's id answers 404 for another firm's record, with none of its data.

Pages are found by walking the URL conf and records by the factories, so a new page is covered without
editing this file. Firm A owns one record of every model; firm B's admin tries each page with each of
those ids (GET, or POST where the page only takes POST). Firm A's admin is the positive control: the same
ids reach the page for them."""

import pytest
from django.test import Client
from django.urls import reverse

from renocrm.outbox.models import StaffNotice
from renocrm.tenancy.context import tenant_context
from tests.factories import MembershipFactory
from tests.registry import factories_by_model, firm_page_routes, page_kwargs

ROUTES = firm_page_routes()


def test_the_walk_finds_pages():
    names = {name for name, _, _ in ROUTES}
    assert {"leads:detail", "contracts:detail", "contracts:version"} <= names


@pytest.fixture
def firm_a_records(firm_a):
    ids = set()
    with tenant_context(firm_a):
        for model, factory in factories_by_model().items():
            if hasattr(model, "tenant"):
                ids.add(factory().pk)
    return sorted(ids)


def fetch(client, name, params, pk):
    url = reverse(name, kwargs=page_kwargs(params, pk))
    response = client.get(url)
    return client.post(url, {}) if response.status_code == 405 else response


@pytest.mark.parametrize(("name", "route", "params"), ROUTES, ids=[name for name, _, _ in ROUTES])
def test_another_firms_id_is_404(name, route, params, firm_a, firm_b, firm_a_records):
    a_admin, b_admin = Client(), Client()
    a_user = MembershipFactory(tenant=firm_a).user
    a_admin.force_login(a_user)
    b_admin.force_login(MembershipFactory(tenant=firm_b).user)
    with tenant_context(firm_a):
        StaffNotice.objects.update(user=a_user)  # a notice opens for its addressee alone
    reached = [pk for pk in firm_a_records if fetch(a_admin, name, params, pk).status_code != 404]
    assert reached, f"positive control: firm A's own records reach {route}"
    for pk in firm_a_records:
        response = fetch(b_admin, name, params, pk)
        assert response.status_code == 404, (route, pk, response.status_code)
