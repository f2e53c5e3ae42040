"""The header's search box: customers by name or mobile (the whole number, or the last four digits the
masked form shows), homes by address, leads, contracts, worksites and complaints — grouped, each a link,
only the kinds the searcher may see, and never another firm's."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from renocrm.accounts.roles import Role
from renocrm.tenancy.context import tenant_context
from tests.complaints.factories import ComplaintFactory
from tests.contracts.factories import ContractFactory
from tests.factories import ApiKeyFactory, MembershipFactory
from tests.leads.factories import CustomerFactory, LeadFactory, PropertyFactory
from tests.worksites.factories import WorksiteFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/search/"


@pytest.fixture
def wang(firm_a):
    with tenant_context(firm_a):
        customer = CustomerFactory(name="王芳", mobile="13812345678")
        home = PropertyFactory(
            customer=customer, compound="翠湖花园", building_unit_room="3-1-602", street="文三路188号"
        )
        lead = LeadFactory(customer=customer, property=home)
        other = CustomerFactory(name="李明", mobile="13998765432")
    return {"customer": customer, "home": home, "lead": lead, "other": other}


def _signed_in(client, firm, role):
    with tenant_context(firm):
        membership = MembershipFactory(role=role)
    client.force_login(membership.user)
    return client


def _kinds(response) -> dict[str, list[str]]:
    return {group["kind"]: [hit["title"] for hit in group["results"]] for group in response.json()["groups"]}


def test_a_customer_is_found_by_name_and_by_the_last_four_digits_of_her_mobile(client, firm_a, wang):
    _signed_in(client, firm_a, Role.SALES)
    page = client.get("/search/", {"q": "王芳"})
    assert page.status_code == 200
    assert f'href="/leads/customers/{wang["customer"].pk}/"' in page.content.decode()
    by_digits = client.get(API, {"q": "5678"})
    assert by_digits.status_code == 200
    assert _kinds(by_digits)["customers"] == ["王芳"]
    assert "李明" not in by_digits.content.decode()
    # The full number, typed the way people write it.
    assert _kinds(client.get(API, {"q": "138 1234 5678"}))["customers"] == ["王芳"]


def test_without_contact_access_only_the_digits_the_mask_shows_find_a_number(client, firm_a, wang):
    _signed_in(client, firm_a, Role.FINANCE)  # sees contracts, not contacts
    answer = client.get(API, {"q": "5678"}).json()
    assert answer["groups"] == []  # finance does not see customers at all
    _signed_in(client, firm_a, Role.SALES)
    membership_client = client
    # A sales member sees contacts; a partner key without "contacts:read" does not.
    with tenant_context(firm_a):
        key = ApiKeyFactory(scopes=["leads:read"])
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {key.raw_key}"}
    assert _kinds(membership_client.get(API, {"q": "12345678"}))["customers"] == ["王芳"]
    masked = client.get(API, {"q": "5678"}, **headers).json()
    customers = next(group for group in masked["groups"] if group["kind"] == "customers")
    assert customers["results"][0]["detail"] == "138****5678"
    # Digits the mask hides find nothing, and neither does an address.
    assert client.get(API, {"q": "12345678"}, **headers).json()["groups"] == []
    assert client.get(API, {"q": "翠湖花园"}, **headers).json()["groups"] == []


def test_homes_are_found_by_compound_and_room(client, firm_a, wang):
    _signed_in(client, firm_a, Role.SALES)
    kinds = _kinds(client.get(API, {"q": "翠湖花园"}))
    assert any("翠湖花园" in title and "3-1-602" in title for title in kinds["addresses"])
    assert "addresses" in _kinds(client.get(API, {"q": "3-1-602"}))


def test_contracts_worksites_and_complaints_are_found(client, firm_a, wang):
    with tenant_context(firm_a):
        contract = ContractFactory(number="HT-2026-0815")
        worksite = WorksiteFactory(project=contract.project, contract=contract)
        complaint = ComplaintFactory(customer=contract.project.customer)
    _signed_in(client, firm_a, Role.ADMIN)
    assert _kinds(client.get(API, {"q": "2026-0815"}))["contracts"] == ["HT-2026-0815"]
    by_customer = _kinds(client.get(API, {"q": contract.project.customer.name}))
    assert by_customer["worksites"] == [worksite.project.name]
    assert any(title.startswith(f"#{complaint.pk} ") for title in by_customer["complaints"])
    assert any(
        title.startswith(f"#{complaint.pk} ")
        for title in _kinds(client.get(API, {"q": f"#{complaint.pk}"}))["complaints"]
    )


def test_kinds_the_searcher_may_not_see_are_not_searched(client, firm_a, wang):
    with tenant_context(firm_a):
        ContractFactory(number="HT-王芳-1")
    _signed_in(client, firm_a, Role.QC)  # worksites only
    assert set(_kinds(client.get(API, {"q": "王芳"}))) <= {"worksites"}
    with tenant_context(firm_a):
        key = ApiKeyFactory(scopes=["contracts:read"])
    answer = client.get(API, {"q": "王芳"}, HTTP_AUTHORIZATION=f"Api-Key {key.raw_key}")
    assert set(_kinds(answer)) == {"contracts"}


def test_another_firms_records_are_never_found(client, firm_a, firm_b, wang):
    with tenant_context(firm_b):
        CustomerFactory(name="王芳", mobile="13712345678")
    _signed_in(client, firm_b, Role.ADMIN)
    answer = client.get(API, {"q": "王芳"}).json()
    customers = next(group for group in answer["groups"] if group["kind"] == "customers")
    assert [hit["detail"] for hit in customers["results"]] == ["13712345678"]
    assert client.get(API, {"q": "翠湖花园"}).json()["groups"] == []


def test_a_query_too_short_or_missing_is_a_field_error(client, firm_a):
    _signed_in(client, firm_a, Role.ADMIN)
    for params in ({}, {"q": " 王 "}, {"q": "x" * 51}):
        response = client.get(API, params)
        assert response.status_code == 400
        assert "q" in response.json()["error"]["fields"]
    assert client.get(API, {"q": "王芳", "page": "2"}).status_code == 400
    page = client.get("/search/", {"q": "王"})
    assert page.status_code == 200


def test_the_header_box_answers_with_the_fragment(client, firm_a, wang):
    _signed_in(client, firm_a, Role.SALES)
    home = client.get("/")
    assert 'data-testid="header-search"' in home.content.decode()
    fragment = client.get("/search/", {"q": "王芳"}, HTTP_HX_REQUEST="true")
    body = fragment.content.decode()
    assert "<html" not in body and 'data-testid="search-group-customers"' in body


def test_the_search_costs_the_same_queries_however_many_records_match(client, firm_a, wang):
    _signed_in(client, firm_a, Role.ADMIN)
    counts = []
    for more in (0, 12):
        with tenant_context(firm_a):
            for n in range(more):
                customer = CustomerFactory(name=f"王芳{n}")
                LeadFactory(customer=customer)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(API, {"q": "王芳"})
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    customers = next(group for group in response.json()["groups"] if group["kind"] == "customers")
    assert len(customers["results"]) == 8 and customers["more_url"].startswith("/leads/customers/?q=")


def test_the_lists_the_search_links_to_find_numbers_by_the_same_rule(client, firm_a, wang):
    with tenant_context(firm_a):
        contract = ContractFactory(number="HT-2026-0901")
        contract.project.customer.mobile = "13812340000"
        contract.project.customer.save()
    _signed_in(client, firm_a, Role.FINANCE)  # contracts, not contacts
    listed = client.get("/contracts/", {"q": "1381234"}).content.decode()
    assert "HT-2026-0901" not in listed  # digits the mask hides find nothing
    assert "HT-2026-0901" in client.get("/contracts/", {"q": "0000"}).content.decode()  # the last four do
    _signed_in(client, firm_a, Role.ADMIN)
    assert "HT-2026-0901" in client.get("/contracts/", {"q": "1381234"}).content.decode()


def test_without_contact_access_worksites_are_not_found_by_the_home_in_their_name(client, firm_a):
    with tenant_context(firm_a):
        contract = ContractFactory(number="HT-2026-0902")
        contract.project.name = "翠湖花园 3-1-602 · 王芳"
        contract.project.save()
        WorksiteFactory(project=contract.project, contract=contract)
    _signed_in(client, firm_a, Role.QC)  # worksites, not contacts
    assert client.get(API, {"q": "翠湖花园"}).json()["groups"] == []
    _signed_in(client, firm_a, Role.ADMIN)
    assert _kinds(client.get(API, {"q": "翠湖花园"}))["worksites"] == ["翠湖花园 3-1-602 · 王芳"]


def test_an_erased_customers_records_are_not_found(client, firm_a):
    from leads.services.privacy import customer_erase

    with tenant_context(firm_a):
        contract = ContractFactory(number="HT-2026-0903")
        customer = contract.project.customer
        ComplaintFactory(customer=customer, project=contract.project)
        erased_name = customer.name
    with tenant_context(firm_a):
        from complaints.models import Complaint

        Complaint.objects.update(status="closed")
        contract.project.status = "closed"
        contract.project.save()
        customer_erase(customer=customer)
        customer.refresh_from_db()
    _signed_in(client, firm_a, Role.ADMIN)
    for q in (customer.name, erased_name):
        answer = client.get(API, {"q": q}).json()
        assert not [g for g in answer["groups"] if g["kind"] in ("customers", "leads", "worksites", "complaints")]


# The search indexes (renocrm.search) ---------------------------------------------------------------------------


def _finder_plan(table: str, column: str, kind: str, words: str) -> str:
    """The plan of a finder's query (``renocrm.search``), as the owner it runs as, with sequential scans
    priced out of reach: the plan names an index only if the finder's condition is on its expression."""
    from django.db import connections

    from renocrm.search import FINDER_CONDITIONS

    condition = FINDER_CONDITIONS[kind].format(column=column).replace("words", "%s")
    with connections["owner"].cursor() as cursor:
        cursor.execute("SET app.tenant_id = '1'")
        cursor.execute("SET enable_seqscan = off")
        try:
            cursor.execute(f"EXPLAIN SELECT id FROM {table} WHERE {condition}", [words])
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("RESET enable_seqscan; RESET app.tenant_id")


@pytest.mark.django_db(databases=["default", "owner"])
def test_each_finder_reads_its_columns_index():
    for table, column, kind, words, index in (
        ("leads_customer", "name", "finds", "王芳", "customer_name_grams"),
        ("leads_customer", "mobile", "finds", "1234", "customer_mobile_grams"),
        ("leads_customer", "mobile", "last_four", "5678", "customer_mobile_last_four"),
        ("leads_property", "address", "finds", "翠湖花园", "property_address_grams"),
        ("contracts_contract", "number", "finds", "HT-2", "contract_number_grams"),
        ("contracts_project", "name", "finds", "翠湖", "project_name_grams"),
    ):
        assert index in _finder_plan(table, column, kind, words), index


def test_a_finder_returns_the_current_firms_ids_only(firm_a, firm_b, wang):
    from django.db import connection as app

    with tenant_context(firm_b):
        CustomerFactory(name="王芳", mobile="13712345678")
    with tenant_context(firm_a), app.cursor() as cursor:
        cursor.execute("SELECT renocrm_find_leads_customer_name(%s)", ["王芳"])
        assert [row[0] for row in cursor.fetchall()] == [wang["customer"].pk]
        cursor.execute("SELECT renocrm_find_leads_customer_mobile_last_four(%s)", ["5678"])
        assert [row[0] for row in cursor.fetchall()] == [wang["customer"].pk]
    # No firm set: nothing.
    with app.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM renocrm_find_leads_customer_name(%s)", ["王芳"])
        assert cursor.fetchone()[0] == 0


def test_the_index_answers_exactly_what_contains_answers(firm_a, firm_b):
    """Bigrams only narrow the rows: the answer is the column holding the text, any case, with LIKE's
    wildcards taken literally, and the firm's own rows only."""
    from leads.models import Customer

    names = ["王芳", "王小芳", "芳王", "Anna Wang", "ANNA WANG", "100%王芳", "王_芳", "王"]
    with tenant_context(firm_a):
        for name in names:
            CustomerFactory(name=name)
    with tenant_context(firm_b):
        CustomerFactory(name="王芳")
    with tenant_context(firm_a):
        for q in ("王芳", "芳", "anna wang", "NA W", "100%", "_", "王_", "%", "王小芳x"):
            found = sorted(Customer.objects.filter(name__finds=q).values_list("name", flat=True))
            expected = sorted(Customer.objects.filter(name__icontains=q).values_list("name", flat=True))
            assert found == expected, q
        assert Customer.objects.filter(name__finds="王芳").count() == 2  # 王芳, 100%王芳: not firm B's


def test_a_partner_key_without_contacts_finds_customers_by_the_last_four_digits_only(client, firm_a, wang):
    with tenant_context(firm_a):
        masked = ApiKeyFactory(scopes=["leads:read"])
        full = ApiKeyFactory(scopes=["leads:read", "contacts:read"])

    def names(key, q):
        answer = client.get("/api/v1/customers/", {"q": q}, HTTP_AUTHORIZATION=f"Api-Key {key.raw_key}")
        assert answer.status_code == 200
        return [row["name"] for row in answer.json()["results"]]

    assert names(masked, "5678") == ["王芳"]
    assert names(masked, "1234") == []  # digits the mask hides
    assert names(masked, "王") == ["王芳"]
    assert names(full, "1234") == ["王芳"]


def test_the_repair_list_finds_the_customer_by_the_one_rule(client, firm_a):
    from tests.aftercare.factories import RepairRequestFactory

    with tenant_context(firm_a):
        repair = RepairRequestFactory(description="厨房水龙头漏水")
        repair.project.customer.name = "赵敏"
        repair.project.customer.mobile = "13812340000"
        repair.project.customer.save()
        RepairRequestFactory(description="卫生间地漏返味")
    _signed_in(client, firm_a, Role.CUSTOMER_SERVICE)
    for q in ("1381234", "40000", "赵敏", f"#{repair.pk}"):
        listed = client.get("/aftercare/", {"q": q}).content.decode()
        assert "厨房水龙头漏水" in listed and "卫生间地漏返味" not in listed, q
