"""Every firm-scoped list endpoint answers in exactly its budget of SQL queries, whatever the firm's size and
the page size asked for. Routes come from the URL conf: a new list endpoint fails here until it has a budget.

The firms are those of the staff page budgets (one renovation, then four, each with rows of every kind under
its records), each list topped up to more rows than a page of ten, so a missing ``select_related`` or
``prefetch_related`` shows as queries that grow with the rows."""

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from renocrm.api.pagination import IdCursorPagination
from renocrm.tenancy.context import tenant_context
from tests.api.test_isolation import LIST_ROUTES, make_row
from tests.factories import ApiKeyFactory
from tests.outbox.factories import StaffNoticeFactory
from tests.registry import firm_api_routes
from tests.test_page_query_budgets import LARGE, SMALL, build_world, make_staff

# The whole request through a partner's API key: the key, the firm, then the page and its related rows. The key
# has every scope, contacts:read too, so a list with contact details records them as reveals: one INSERT more.
BUDGETS = {
    "staff-invitation-list": 6,
    "staff-list": 6,
    "acceptance-item-list": 6,
    "api-key-list": 6,
    "audit-event-list": 7,
    "callback-list": 10,
    "callback-plan-list": 7,
    "change-order-list": 8,
    "complaint-list": 6,
    "contract-list": 8,
    "coverage-list": 6,
    "deletion-list": 6,
    "customer-list": 7,
    "design-agreement-list": 6,
    "feedback-follow-up-list": 6,
    "follow-up-list": 6,
    "gate-override-list": 6,
    "handover-list": 9,
    "inspection-list": 8,
    "instalment-list": 6,
    "lead-list": 6,
    "material-arrival-list": 7,
    "measurement-appointment-list": 6,
    # Signed in, not through a key (a key has no notices): the session, the user and the membership, then the
    # firm's transaction and scope, and the page (test_notices_list_costs_its_budget_at_two_sizes_and_page_sizes).
    "notice-list": 8,
    "phase-list": 6,
    "phase-template-list": 7,
    "price-item-list": 6,
    "price-package-list": 7,
    "progress-update-list": 7,
    "property-list": 7,
    "quotation-list": 8,
    "quotation-version-list": 7,
    "receivable-list": 7,  # one more: the page's project managers
    "rectification-item-list": 6,
    "referral-reward-list": 6,
    "repair-request-list": 8,
    "site-patrol-list": 6,
    "site-problem-list": 8,
    "technical-handover-list": 6,
    "warranty-card-list": 8,
    "webhook-delivery-list": 6,
    "webhook-list": 6,
    "worksite-list": 6,
}

# Lists measured on a filter: every page of the customers' audit events holds contact details (recorded as
# reveals), where a page of the whole trail may hold only the reveals recorded by the page read before it.
LIST_PARAMS = {"audit-event-list": {"table_name": "leads_customer"}}

# GET actions on one record that answer with the rows under it: the record of the world they are asked about,
# their query parameters (naming other records of the world), and their budget.
RECORD_ROUTES = {
    "staff-open-work": ("membership", {}),
    "customer-export": ("customer", {}),
    "quotation-version-compare": ("other_version", {"with": "version"}),
    "quotation-version-pdf": ("version", {}),
    "contract-pdf": ("contract", {}),
}
RECORD_BUDGETS = {
    # One query per kind of open work the apps register, whatever the member holds.
    "staff-open-work": 22,
    # A query or two per table of the homeowner's data, whatever its rows, and the request written to the privacy log.
    "customer-export": 67,
    "quotation-version-compare": 9,
    # A PDF made now (the world's records have no signed copy): its lines and schedule read once, whatever their number.
    "quotation-version-pdf": 9,
    "contract-pdf": 12,
}

# Rows of each list in the larger firm: more than the small page asked for, fewer than the default page.
ROWS = 12
SMALL_PAGE = 10


def test_every_list_route_has_a_budget():
    names = {name for name, _ in LIST_ROUTES}
    missing = sorted(names - BUDGETS.keys())
    assert not missing, (
        f"List endpoints without a query budget: {missing}. Add each to BUDGETS in {__name__} with the number "
        "of queries it takes (run this test file to see the counts measured)."
    )
    assert not BUDGETS.keys() - names, "budgets of routes that no longer exist"
    assert IdCursorPagination.page_size > ROWS, "the larger firm's lists must fit the default page"


def test_every_record_action_has_a_budget():
    names = {
        name
        for name, _, actions, takes_pk in firm_api_routes()
        if takes_pk and actions.get("get") not in (None, "retrieve")
    }
    missing = sorted(names - RECORD_ROUTES.keys())
    assert not missing, (
        f"GET actions without a query budget: {missing}. Add each to RECORD_ROUTES and RECORD_BUDGETS in {__name__}."
    )
    assert RECORD_ROUTES.keys() == RECORD_BUDGETS.keys() and RECORD_ROUTES.keys() <= names


def partner_client(firm) -> Client:
    with tenant_context(firm):
        key = ApiKeyFactory()
    return Client(HTTP_AUTHORIZATION=f"Api-Key {key.raw_key}")


def measure(client, url, **params) -> tuple[int, dict]:
    client.get(url, params)  # warms the per-process caches, so only the request's own queries are counted
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200, (url, response.content)
    return len(queries), response.json()


def test_list_routes_cost_their_budget_at_two_sizes_and_page_sizes(firm_a, firm_b):
    """The small firm is measured while the large one exists beside it: another firm's rows are never read."""
    build_world(firm_a, make_staff(firm_a), SMALL)
    build_world(firm_b, make_staff(firm_b), LARGE)
    for _, cls in LIST_ROUTES:
        with tenant_context(firm_b):
            missing = ROWS - cls.model.objects.count()
        for _ in range(missing):
            make_row(cls.model, firm_b)
    small_client, large_client = partner_client(firm_a), partner_client(firm_b)

    report = []
    for name, cls in LIST_ROUTES:
        if getattr(cls, "owner_field", None):
            continue  # each person's own rows, which no key may read: measured signed in below
        url, params = reverse(name), LIST_PARAMS.get(name, {})
        few, few_page = measure(small_client, url, **params)
        many, many_page = measure(large_client, url, **params)
        paged, paged_page = measure(large_client, url, page_size=SMALL_PAGE, **params)
        problems = []
        if few != many:
            rows = f"{len(few_page['results'])} rows but {many} for {len(many_page['results'])}"
            problems.append(f"{few} queries for {rows}")
        if paged != many:
            problems.append(f"{paged} queries for a page of {SMALL_PAGE} but {many} for the default page")
        if many != BUDGETS.get(name):
            problems.append(f"budget {BUDGETS.get(name)}, measured {many}")
        if len(many_page["results"]) < ROWS or len(paged_page["results"]) != SMALL_PAGE or not paged_page["next"]:
            problems.append("the larger firm's rows are not all listed")
        if problems:
            report.append(f"{name}: " + "; ".join(problems))
    assert not report, "\n".join(report)


def test_notices_list_costs_its_budget_at_two_sizes_and_page_sizes(firm_a, firm_b):
    """A staff member's own notices, read signed in: one notice in the small firm, more than a page of ten in
    the large one, beside colleagues' notices that are never read."""
    clients = {}
    for firm, count in ((firm_a, 1), (firm_b, ROWS)):
        staff = make_staff(firm)
        with tenant_context(firm):
            StaffNoticeFactory.create_batch(count, user=staff.admin)
            StaffNoticeFactory.create_batch(count, user=staff.sales)
        clients[firm] = Client()
        clients[firm].force_login(staff.admin)
    url = reverse("notice-list")
    few, few_page = measure(clients[firm_a], url)
    many, many_page = measure(clients[firm_b], url)
    paged, paged_page = measure(clients[firm_b], url, page_size=SMALL_PAGE)
    assert (len(few_page["results"]), len(many_page["results"]), len(paged_page["results"])) == (1, ROWS, SMALL_PAGE)
    assert few == many == paged == BUDGETS["notice-list"], (few, many, paged)


def test_record_actions_cost_their_budget_at_two_sizes(firm_a, firm_b):
    """A customer's data export and a comparison of two quotation versions, with one and with four rows of every
    kind under the record."""
    small_world = build_world(firm_a, make_staff(firm_a), SMALL)
    large_world = build_world(firm_b, make_staff(firm_b), LARGE)
    small_client, large_client = partner_client(firm_a), partner_client(firm_b)

    def request(client, world, name):
        record, params = RECORD_ROUTES[name]
        url = reverse(name, kwargs={"pk": world.first[record].pk})
        query = {param: world.first[other].pk for param, other in params.items()}
        client.get(url, query)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, query)
        assert response.status_code == 200, (name, response.content)
        return len(queries), len(response.content)

    report = []
    for name in RECORD_ROUTES:
        (few, few_bytes), (many, many_bytes) = (
            request(small_client, small_world, name),
            request(large_client, large_world, name),
        )
        problems = []
        if few != many:
            problems.append(f"{few} queries at {SMALL} row(s) of each kind but {many} at {LARGE}")
        if many != RECORD_BUDGETS.get(name):
            problems.append(f"budget {RECORD_BUDGETS.get(name)}, measured {many}")
        if many_bytes <= few_bytes:
            problems.append("answers no more rows at the larger size")
        if problems:
            report.append(f"{name}: " + "; ".join(problems))
    assert not report, "\n".join(report)
