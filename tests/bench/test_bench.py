"""`make bench`: response time and SQL query count of every firm list endpoint and the busiest staff pages
with a few hundred rows, against real PostgreSQL. Prints a table; fails only if a list's query count
grows with its rows. Skipped in `make test` — these are numbers to watch, not timed assertions."""

import os
import statistics
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.api.test_isolation import LIST_ROUTES, make_row

pytestmark = pytest.mark.skipif(not os.environ.get("RENOCRM_BENCH"), reason="run with `make bench`")

ROWS = int(os.environ.get("RENOCRM_BENCH_ROWS", "200"))
REPEAT = int(os.environ.get("RENOCRM_BENCH_REPEAT", "10"))
RESULTS = []


def measure(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    queries = len(captured.captured_queries)  # now: the next request resets the query log
    timings = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    return queries, statistics.median(timings), max(timings)


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    if RESULTS:
        width = max(len(name) for name, *_ in RESULTS)
        print(f"\n{'route':<{width}}  rows  queries(1 row)  queries  median ms  max ms")
        for name, rows, first, queries, median, worst in RESULTS:
            print(f"{name:<{width}}  {rows:>4}  {first:>14}  {queries:>7}  {median:>9.1f}  {worst:>6.1f}")


@pytest.mark.parametrize(("name", "cls"), LIST_ROUTES, ids=[name for name, _ in LIST_ROUTES])
def test_list_endpoint(name, cls, firm_a, staff_client):
    url = reverse(name)
    make_row(cls.model, firm_a)
    first, *_ = measure(staff_client, url)
    for _ in range(ROWS - 1):
        make_row(cls.model, firm_a)
    queries, median, worst = measure(staff_client, url)
    RESULTS.append((name, ROWS, first, queries, median, worst))
    assert queries <= first, f"{name}: {first} queries for one row, {queries} for {ROWS}"


@pytest.mark.parametrize(
    ("url_name", "model_label"),
    [
        ("leads:list", "leads.Lead"),
        ("leads:board", "leads.Lead"),
        ("leads:customer-list", "leads.Customer"),
        ("contracts:list", "contracts.Contract"),
        ("worksites:list", "worksites.Worksite"),
        ("worksites:board", "worksites.Worksite"),
        ("worksites:rectification-items", "worksites.RectificationItem"),
    ],
)
def test_staff_page(url_name, model_label, firm_a, staff_client):
    from django.apps import apps

    model = apps.get_model(model_label)
    url = reverse(url_name)
    make_row(model, firm_a)
    first, *_ = measure(staff_client, url)
    for _ in range(ROWS - 1):
        make_row(model, firm_a)
    queries, median, worst = measure(staff_client, url)
    RESULTS.append((url_name, ROWS, first, queries, median, worst))
    assert queries <= first, f"{url_name}: {first} queries for one row, {queries} for {ROWS}"
