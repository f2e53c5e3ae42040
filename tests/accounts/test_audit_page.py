from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from renocrm.api.models import ApiKey
from renocrm.audit.selectors import PAGE_SIZE
from renocrm.tenancy.context import tenant_context

pytestmark = pytest.mark.usefixtures("english")

AUDIT_URL = "/audit/"


def make_keys(firm, names, *, user=None):
    with tenant_context(firm, user_id=user.pk if user else None):
        return [ApiKey.objects.create(name=name, prefix=name[:16], hashed_key="f" * 64) for name in names]


def rows(response):
    return [event.row_id for event in response.context["page"].events]


def test_audit_page_is_forbidden_to_a_customer_manager(client, sales_a):
    client.force_login(sales_a)

    response = client.get(reverse("audit:list"))

    assert response.status_code == 403
    assert "You do not have access to this page" in response.content.decode()


def test_admin_sees_only_the_current_firms_events(client, admin_a, firm_a, firm_b):
    make_keys(firm_a, ["key-of-firm-a"], user=admin_a)
    make_keys(firm_b, ["key-of-firm-b"])
    client.force_login(admin_a)

    response = client.get(reverse("audit:list"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "key-of-firm-a" in html
    assert "key-of-firm-b" not in html
    assert len(response.context["page"].events) == 1
    assert "Wang Fang" in html  # who


def test_update_shows_old_and_new_values_and_hides_secrets(client, admin_a, firm_a):
    (key,) = make_keys(firm_a, ["before-rename"], user=admin_a)
    with tenant_context(firm_a, user_id=admin_a.pk):
        ApiKey.objects.filter(pk=key.pk).update(name="after-rename")
    client.force_login(admin_a)

    response = client.get(reverse("audit:list"))

    newest = response.context["page"].events[0]
    assert newest.action == "update"
    assert [(c.field, c.old, c.new) for c in newest.changed_fields] == [("name", "before-rename", "after-rename")]
    html = response.content.decode()
    assert "<del>before-rename</del> → <ins>after-rename</ins>" in html
    assert "f" * 64 not in html  # the key digest from the insert row


def test_filters_by_table_user_and_dates(client, admin_a, sales_a, firm_a):
    make_keys(firm_a, ["by-admin"], user=admin_a)
    make_keys(firm_a, ["by-sales"], user=sales_a)
    client.force_login(admin_a)
    today = timezone.localdate(timezone=firm_a.zone)

    def names(**params):
        response = client.get(reverse("audit:list"), params)
        assert response.status_code == 200
        return sorted(c.new for e in response.context["page"].events for c in e.changed_fields if c.field == "name")

    assert names() == ["by-admin", "by-sales"]
    assert names(actor=sales_a.pk) == ["by-sales"]
    assert names(table="api_apikey") == ["by-admin", "by-sales"]
    assert names(table="api_idempotencyrecord") == []  # not audited, so not a choice: an error, no rows
    assert names(table="audit_auditevent") == []
    assert names(date_from=today.isoformat(), date_to=today.isoformat()) == ["by-admin", "by-sales"]
    assert names(date_from=(today + timedelta(days=1)).isoformat()) == []
    assert names(date_to=(today - timedelta(days=1)).isoformat()) == []


def test_start_after_end_is_reported(client, admin_a, firm_a):
    client.force_login(admin_a)

    response = client.get(reverse("audit:list"), {"date_from": "2026-05-02", "date_to": "2026-05-01"})

    assert "The start date is after the end date." in response.content.decode()


def test_pages_follow_each_other_without_gaps_or_repeats(client, admin_a, firm_a):
    make_keys(firm_a, [f"key-{n:03}" for n in range(PAGE_SIZE + 7)], user=admin_a)
    client.force_login(admin_a)

    first = client.get(reverse("audit:list"))
    cursor = first.context["page"].next_cursor
    second = client.get(reverse("audit:list"), {"cursor": cursor})

    assert len(rows(first)) == PAGE_SIZE
    assert len(rows(second)) == 7
    assert second.context["page"].next_cursor is None
    with tenant_context(firm_a):
        expected = [str(pk) for pk in ApiKey.objects.order_by("-pk").values_list("pk", flat=True)]
    assert rows(first) + rows(second) == expected


def test_older_events_through_htmx_come_as_rows_only(client, admin_a, firm_a):
    make_keys(firm_a, [f"key-{n:03}" for n in range(PAGE_SIZE + 1)], user=admin_a)
    client.force_login(admin_a)
    cursor = client.get(reverse("audit:list")).context["page"].next_cursor

    response = client.get(reverse("audit:list"), {"cursor": cursor}, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert "<html" not in html
    assert html.count('data-testid="audit-row"') == 1
    assert 'id="audit-more"' not in html


def test_a_garbled_cursor_shows_the_newest_page(client, admin_a, firm_a):
    make_keys(firm_a, ["only-key"], user=admin_a)
    client.force_login(admin_a)

    response = client.get(reverse("audit:list"), {"cursor": "not-a-cursor"})

    assert response.status_code == 200
    assert len(rows(response)) == 1


def test_query_count_does_not_grow_with_rows(client, admin_a, sales_a, firm_a, django_assert_max_num_queries):
    client.force_login(admin_a)
    make_keys(firm_a, ["small-1", "small-2"], user=admin_a)
    with CaptureQueriesContext(connection) as small:
        assert len(rows(client.get(reverse("audit:list")))) == 2

    # Many rows by several people, well over one page.
    make_keys(firm_a, [f"admin-{n}" for n in range(40)], user=admin_a)
    make_keys(firm_a, [f"sales-{n}" for n in range(40)], user=sales_a)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(reverse("audit:list"))
    assert len(rows(response)) == PAGE_SIZE
    assert not any("count(" in q["sql"].lower() for q in small.captured_queries)
