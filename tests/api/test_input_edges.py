"""Input a partner gets wrong is refused with a field error the partner can act on — never a 500, never
quietly ignored: bad page sizes and cursors, unknown query parameters, ids that are not ids, amounts no
column can hold, optional fields left out, empty action bodies and a duplicate created twice at once."""

import threading
import time

import pytest
from django.db import connection
from django.test import Client

from leads.models import Customer
from renocrm.tenancy.context import tenant_context
from tests.contracts.factories import ProjectFactory, QuotationVersionFactory
from tests.leads.factories import LeadFactory
from tests.worksites.factories import ProgressUpdateFactory, WorksiteFactory

LEADS = "/api/v1/leads/"


def error_fields(response) -> dict:
    return response.json()["error"].get("fields", {})


@pytest.mark.parametrize("page_size", ["abc", "0", "-3", "201", "1.5", "１０"])
def test_a_page_size_that_cannot_be_served_is_refused(client, partner, page_size):
    response = client.get(LEADS, {"page_size": page_size}, **partner.headers)
    assert response.status_code == 400
    assert "page_size" in error_fields(response)


def test_a_page_size_in_range_is_served(client, partner, firm_a):
    with tenant_context(firm_a):
        LeadFactory.create_batch(3)
    response = client.get(LEADS, {"page_size": "2"}, **partner.headers)
    assert response.status_code == 200
    assert len(response.json()["results"]) == 2


@pytest.mark.parametrize("cursor", ["garbage", "cD1hYmM=", "%%%"])
def test_a_cursor_that_was_not_handed_out_is_refused(client, partner, cursor):
    # "cD1hYmM=" is a well-formed cursor whose position is not an id.
    response = client.get(LEADS, {"cursor": cursor}, **partner.headers)
    assert response.status_code == 400
    assert "cursor" in error_fields(response)


def test_an_unknown_query_parameter_is_refused_by_name(client, partner, firm_a):
    with tenant_context(firm_a):
        LeadFactory.create_batch(2)
    response = client.get(LEADS, {"stauts": "won"}, **partner.headers)
    assert response.status_code == 400
    fields = error_fields(response)
    assert "stauts" in fields
    assert "status" in " ".join(fields["non_field_errors"])  # the known ones are listed


def test_declared_filters_and_range_lookups_still_work(client, partner, firm_a):
    with tenant_context(firm_a):
        LeadFactory.create_batch(2)
    assert client.get(LEADS, {"status": "new", "page_size": "10"}, **partner.headers).status_code == 200
    response = client.get("/api/v1/progress-updates/", {"posted_at__gte": "2026-01-01T00:00:00Z"}, **partner.headers)
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("route", "parameter"),
    [("/api/v1/measurement-appointments/", "scheduled_at__gte"), ("/api/v1/progress-updates/", "posted_at__gte")],
)
def test_a_time_with_an_offset_no_clock_uses_is_a_field_error(client, partner, firm_a, route, parameter):
    # PostgreSQL refuses offsets beyond ±15:59; the parameter is refused before it gets there.
    response = client.get(route, {parameter: "7530-12-29T02:30:55+23:34"}, **partner.headers)
    assert response.status_code == 400
    assert "+14:00" in " ".join(error_fields(response)[parameter])
    # The widest offsets in use are still times.
    for offset in ("+14:00", "-12:00"):
        response = client.get(route, {parameter: f"2026-12-29T02:30:55{offset}"}, **partner.headers)
        assert response.status_code == 200, response.content


def test_an_action_reads_the_parameters_it_declares(client, partner, firm_a):
    with tenant_context(firm_a):
        version = QuotationVersionFactory()
    url = f"/api/v1/quotation-versions/{version.pk}/compare/"
    assert client.get(url, {"with": version.pk}, **partner.headers).status_code == 200
    assert client.get(url, {"with": version.pk, "extra": "1"}, **partner.headers).status_code == 400


@pytest.mark.parametrize("lookup", ["9.5", "abc", "1e3", "99999999999999999999999"])
def test_an_id_that_is_not_an_id_is_not_found(client, partner, firm_a, lookup):
    with tenant_context(firm_a):
        LeadFactory(id=9)
    response = client.get(f"{LEADS}{lookup}/", **partner.headers)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_quotation_amounts_no_column_can_hold_are_field_errors(client, partner, firm_a):
    with tenant_context(firm_a):
        version = QuotationVersionFactory()
    line = {"category": "tiling", "name": "Floor tiles", "unit": "m²"}
    huge = {"items": [{**line, "quantity": "9999999999.99", "unit_price": "999999999999.99"}]}
    url = f"/api/v1/quotation-versions/{version.pk}/set-items/"
    response = client.post(url, huge, content_type="application/json", **partner.headers)
    assert response.status_code == 400, response.content
    assert "items" in error_fields(response)
    # Each line fits, their sum does not.
    many = {"items": [{**line, "quantity": "1", "unit_price": "999999999999.00"}] * 2}
    response = client.post(url, many, content_type="application/json", **partner.headers)
    assert response.status_code == 400
    assert "items" in error_fields(response)
    with tenant_context(firm_a):
        assert not version.items.exists()


def test_a_coverage_without_its_optional_area_covers_the_whole_home(client, partner, firm_a):
    with tenant_context(firm_a):
        project = ProjectFactory()
    body = {"project": project.pk, "name": "Extended warranty", "starts_on": "2026-01-01", "ends_on": "2028-01-01"}
    response = client.post("/api/v1/coverages/", body, content_type="application/json", **partner.headers)
    assert response.status_code == 201, response.content
    assert response.json()["area"] == "whole_home"


def test_an_empty_visibility_body_changes_nothing(client, partner, firm_a):
    with tenant_context(firm_a):
        update = ProgressUpdateFactory(visible_to_homeowner=True)
    url = f"/api/v1/progress-updates/{update.pk}/visibility/"
    # A form body (the action takes JSON or a form) without the field: not an unticked box.
    response = client.post(url, "", content_type="application/x-www-form-urlencoded", **partner.headers)
    assert response.status_code == 400
    assert "visible" in error_fields(response)
    with tenant_context(firm_a):
        update.refresh_from_db()
    assert update.visible_to_homeowner is True


def test_a_duplicate_customer_answers_409_conflict(client, partner):
    body = {"name": "王芳", "mobile": "13800001111"}
    assert (
        client.post("/api/v1/customers/", body, content_type="application/json", **partner.headers).status_code == 201
    )
    again = client.post("/api/v1/customers/", body, content_type="application/json", **partner.headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"
    assert "mobile" in error_fields(again)


@pytest.mark.django_db(transaction=True)
def test_a_customer_created_by_a_concurrent_request_answers_409_not_500(firm_a, partner):
    """The race made certain: another transaction inserts the same mobile and holds it uncommitted, so this
    request's "already exists?" check sees nothing and its insert waits on the unique key; the other
    commits as soon as this one is seen waiting. The database's key decides, and the answer is 409."""
    inserted, done = threading.Event(), threading.Event()

    def first_request():
        try:
            with tenant_context(firm_a):
                Customer.objects.create(name="先到", mobile="13900002222")
                inserted.set()
                with connection.cursor() as cursor:
                    for _ in range(200):  # until the other insert waits on this row's key (10 s at most)
                        cursor.execute(
                            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                            " AND wait_event_type = 'Lock'"
                        )
                        if cursor.fetchone()[0]:
                            break
                        time.sleep(0.05)
        finally:
            done.set()
            connection.close()

    thread = threading.Thread(target=first_request)
    thread.start()
    assert inserted.wait(timeout=10)
    response = Client().post(
        "/api/v1/customers/",
        {"name": "后到", "mobile": "13900002222"},
        content_type="application/json",
        **partner.headers,
    )
    thread.join(timeout=30)
    assert done.is_set()
    assert response.status_code == 409, response.content
    assert "mobile" in error_fields(response)
    with tenant_context(firm_a):
        assert list(Customer.objects.filter(mobile="13900002222").values_list("name", flat=True)) == ["先到"]


def test_a_progress_update_posted_as_a_form_without_visibility_is_shown_to_the_homeowner(client, partner, firm_a):
    """The form default is the documented one (shown), not an unticked box."""
    with tenant_context(firm_a):
        worksite = WorksiteFactory()
    response = client.post(
        "/api/v1/progress-updates/", {"worksite": worksite.pk, "note": "瓷砖铺贴完成"}, **partner.headers
    )
    assert response.status_code == 201, response.content
    assert response.json()["visible_to_homeowner"] is True
