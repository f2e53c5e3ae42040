"""Finance's receivables: every outstanding instalment in its aging bucket by the firm's own calendar day, exact
totals by bucket, project, designer and project manager, the finance dashboard's figures leading to exactly the
rows they count, the payment register with its filters and downloads, the SMS reminder before an instalment
falls due, and the API. The same records are built in firm B, so anything that crossed firms would show."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contracts import receivables as ledger
from contracts import tasks
from contracts.models import ContractSettings, Instalment
from contracts.services import reminders
from renocrm.outbox.models import Notification
from renocrm.tenancy.context import tenant_context
from tests.contracts.factories import ContractFactory, InstalmentFactory
from tests.contracts.test_settings_page import posted as contract_settings_posted
from tests.factories import ApiKeyFactory, MembershipFactory, UserFactory
from tests.worksites.factories import WorksiteFactory

pytestmark = pytest.mark.usefixtures("english")

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Five minutes past midnight in Shanghai: still 31 May in UTC, so a day counted on the server's date is one off.
NOW = datetime(2026, 6, 1, 0, 5, tzinfo=SHANGHAI)
TODAY = date(2026, 6, 1)


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


@pytest.fixture
def midnight():
    with time_machine.travel(NOW.astimezone(UTC), tick=False):
        yield NOW


@dataclass
class Book:
    firm: object
    finance: object
    admin: object
    sales: object
    designers: list
    managers: list
    contracts: list
    due: dict  # name -> instalment
    paid: dict


def member(firm, role, name):
    user = UserFactory(username=f"{name}-{firm.slug}", name=f"{name} {firm.slug}")
    MembershipFactory(tenant=firm, role=role, user=user)
    return user


def book(firm) -> Book:
    """Three contracts: C1 (designer D1, project manager P1), C2 (D2, P2), C3 (D1, no worksite yet); their
    instalments at each aging boundary, and three received."""
    with tenant_context(firm):
        finance, admin, sales = (member(firm, role, role) for role in ("finance", "admin", "sales"))
        d1, d2 = member(firm, "designer", "d1"), member(firm, "designer", "d2")
        p1, p2 = member(firm, "project_manager", "p1"), member(firm, "project_manager", "p2")
        c1 = ContractFactory(project__lead__designer=d1, project__name="Villa Wang")
        c2 = ContractFactory(project__lead__designer=d2, project__name="Flat Li")
        c3 = ContractFactory(project__lead__designer=d1, project__name="Loft Zhao")
        WorksiteFactory(contract=c1, project_manager=p1)
        WorksiteFactory(contract=c2, project_manager=p2)
        seq = iter(range(1, 100))

        def instalment(contract, amount, due_on, **fields):
            return InstalmentFactory(
                contract=contract, sequence=next(seq), amount=Decimal(amount), due_on=due_on, **fields
            )

        due = {
            "30": instalment(c1, "1000.01", ago(30)),
            "31": instalment(c1, "2000.02", ago(31)),
            "60": instalment(c2, "3000.03", ago(60)),
            "61": instalment(c2, "4000.04", ago(61)),
            "90": instalment(c3, "5000.05", ago(90)),
            "91": instalment(c3, "6000.06", ago(91)),
            "1": instalment(c1, "100.10", ago(1)),
            "today": instalment(c1, "200.20", TODAY),
            "in-30": instalment(c2, "300.30", TODAY + timedelta(days=30)),
            "in-31": instalment(c2, "400.40", TODAY + timedelta(days=31)),
            "undated": instalment(c3, "500.50", None),
        }
        paid = {
            "may": instalment(
                c1, "7000.00", ago(40), kind=Instalment.Kind.MIDTERM, paid_on=date(2026, 5, 20), recorded_by=finance
            ),
            "april": instalment(
                c2,
                "8000.00",
                ago(60),
                paid_on=date(2026, 4, 30),
                paid_amount=Decimal("7999.99"),
                recorded_by=admin,
            ),
            "partner": instalment(c3, "9000.00", ago(10), kind=Instalment.Kind.FINAL, paid_on=date(2026, 5, 31)),
        }
    return Book(firm, finance, admin, sales, [d1, d2], [p1, p2], [c1, c2, c3], due, paid)


@pytest.fixture
def books(midnight, firm_a, firm_b):
    book(firm_b)
    return book(firm_a)


def signed_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def page(client, **query):
    response = client.get(reverse("dashboard:receivables"), query)
    assert response.status_code == 200, response.content[:500]
    return response


def listed(response) -> set[int]:
    return {row.pk for row in response.context["page"].rows}


def ids(*instalments) -> set[int]:
    return {i.pk for i in instalments}


def total(*instalments) -> Decimal:
    return sum((i.amount for i in instalments), Decimal("0.00"))


# Aging -------------------------------------------------------------------------------------------------------

BOUNDARIES = {
    "30": "0-30",
    "31": "31-60",
    "60": "31-60",
    "61": "61-90",
    "90": "61-90",
    "91": "over-90",
    "1": "0-30",
    "today": "due",
    "in-30": "due",
    "in-31": "later",
    "undated": "scheduled",
}


def test_each_instalment_sits_in_its_bucket_by_the_firms_own_day(books):
    response = page(signed_in(books.finance))

    rows = {row.pk: row for row in response.context["page"].rows}
    for name, bucket in BOUNDARIES.items():
        instalment = books.due[name]
        assert rows[instalment.pk].bucket == bucket, name
    assert rows[books.due["91"].pk].days_overdue == 91
    assert rows[books.due["today"].pk].days_overdue == 0
    # The received ones are not receivable.
    assert not ids(*books.paid.values()) & set(rows)


@pytest.mark.parametrize("bucket", ["0-30", "31-60", "61-90", "over-90", "due", "later", "scheduled"])
def test_finance_sees_exactly_the_instalments_of_a_bucket(books, bucket):
    expected = [books.due[name] for name, b in BOUNDARIES.items() if b == bucket]

    response = page(signed_in(books.finance), bucket=bucket)

    assert listed(response) == ids(*expected)
    assert response.context["page"].selection == {"count": len(expected), "amount": total(*expected)}
    html = response.content.decode()
    assert all(f'data-instalment="{i.pk}"' in html for i in expected)


def test_overdue_is_the_four_aging_buckets_and_the_totals_are_exact(books):
    response = page(signed_in(books.finance), bucket="overdue")

    overdue = [books.due[name] for name in ("30", "31", "60", "61", "90", "91", "1")]
    assert listed(response) == ids(*overdue)
    totals = response.context["page"].totals
    assert totals["overdue"] == {"count": 7, "amount": Decimal("21100.31")}
    assert sum(totals[key]["amount"] for key in ledger.AGING_KEYS) == totals["overdue"]["amount"]
    assert sum(totals[key]["amount"] for key in ledger.PARTS) == totals["all"]["amount"] == Decimal("22501.71")
    assert "¥21,100.31" in response.content.decode()


def test_oldest_debt_comes_first_and_pages_follow_on(books):
    from renocrm.dashboard import receivables as gathering

    with tenant_context(books.firm):
        chosen = gathering.outstanding(gathering.Filters(), today=TODAY)
        first, token = gathering.oldest_first(chosen, size=4)
        seen = [row.pk for row in first]
        while token:
            more, token = gathering.oldest_first(chosen, after=token, size=4)
            seen += [row.pk for row in more]
    order = ["91", "90", "61", "60", "31", "30", "1", "today", "in-30", "in-31", "undated"]
    assert seen == [books.due[name].pk for name in order]


# Filters and groups ------------------------------------------------------------------------------------------


def test_filters_by_designer_and_by_project_manager(books):
    client = signed_in(books.finance)
    d1, d2 = books.designers
    p1, p2 = books.managers
    c1_c3 = [i for i in books.due.values() if i.contract_id in (books.contracts[0].pk, books.contracts[2].pk)]
    c1 = [i for i in books.due.values() if i.contract_id == books.contracts[0].pk]
    c2 = [i for i in books.due.values() if i.contract_id == books.contracts[1].pk]

    assert listed(page(client, designer=d1.pk)) == ids(*c1_c3)
    assert listed(page(client, pm=p1.pk)) == ids(*c1)
    assert listed(page(client, pm=p2.pk, bucket="overdue")) == ids(books.due["60"], books.due["61"])
    assert listed(page(client, designer=d2.pk, pm=p1.pk)) == set()
    assert listed(page(client, project=books.contracts[1].project_id)) == ids(*c2)
    assert listed(page(client, q=books.contracts[2].number)) == ids(
        *[i for i in books.due.values() if i not in c1 + c2]
    )


@pytest.mark.parametrize("by", ["project", "designer", "pm"])
def test_the_totals_by_group_add_up_to_the_selection(books, by):
    response = page(signed_in(books.finance), by=by, bucket="overdue")

    groups = response.context["page"].groups
    selection = response.context["page"].selection
    assert sum(g.totals["all"]["amount"] for g in groups) == selection["amount"] == Decimal("21100.31")
    assert sum(g.totals["all"]["count"] for g in groups) == selection["count"]
    labels = {g.label: g.totals for g in groups}
    if by == "pm":
        p1, p2 = books.managers
        assert labels[str(p1)]["all"]["amount"] == Decimal("3100.13")  # C1: 1000.01 + 2000.02 + 100.10
        assert labels[str(p2)]["61-90"]["amount"] == Decimal("4000.04")
        assert labels["No project manager"]["over-90"]["amount"] == Decimal("6000.06")  # C3 has no worksite
    if by == "designer":
        d1, _d2 = books.designers
        assert labels[str(d1)]["all"]["amount"] == Decimal("14100.24")  # C1 and C3
    # Each group's figure leads to its own rows.
    first = response.context["groups"][0]
    if first["href"]:
        assert (
            page(signed_in(books.finance), **_query(first["href"])).context["page"].selection
            == (first["group"].totals["all"])
        )


def _query(href: str) -> dict:
    from urllib.parse import parse_qsl, urlsplit

    return dict(parse_qsl(urlsplit(href).query))


# The dashboard's figures lead to exactly their rows ------------------------------------------------------------


@pytest.mark.parametrize(
    ("count_key", "amount_key"),
    [("instalments-overdue", "instalments-overdue-amount"), ("instalments-due", "instalments-due-amount")],
)
def test_each_finance_figure_counts_exactly_the_rows_it_links_to(books, count_key, amount_key):
    client = signed_in(books.finance)
    dashboard = client.get(reverse("dashboard:home")).context["dashboard"]
    count, amount = dashboard.figure(count_key), dashboard.figure(amount_key)
    assert count.href == amount.href

    linked = page(client, **_query(count.href))

    assert count.value == len(linked.context["page"].rows) == linked.context["page"].selection["count"]
    assert amount.value == sum((row.amount for row in linked.context["page"].rows), Decimal("0"))
    assert amount.value == linked.context["page"].selection["amount"]
    assert count.value in (7, 2)


# The payment register ----------------------------------------------------------------------------------------


def register(client, **query):
    response = client.get(reverse("dashboard:payments"), query)
    assert response.status_code == 200, response.content[:500]
    return response


def test_the_register_lists_the_payments_received_latest_first(books):
    response = register(signed_in(books.finance))

    assert [row.pk for row in response.context["page"].rows] == [
        books.paid[name].pk for name in ("partner", "may", "april")
    ]
    assert response.context["page"].totals == {
        "count": 3,
        "amount": Decimal("24000.00"),
        "received": Decimal("23999.99"),
    }
    html = response.content.decode()
    assert "Partner system" in html  # recorded through a key


def test_the_register_filters(books):
    client = signed_in(books.finance)
    p1, _p2 = books.managers
    _d1, d2 = books.designers

    def found(**query):
        return {row.pk for row in register(client, **query).context["page"].rows}

    assert found(paid_from="2026-05-01", paid_to="2026-05-31") == ids(books.paid["may"], books.paid["partner"])
    assert found(kind="final") == ids(books.paid["partner"])
    assert found(recorded_by=books.admin.pk) == ids(books.paid["april"])
    assert found(pm=p1.pk) == ids(books.paid["may"])
    assert found(designer=d2.pk) == ids(books.paid["april"])
    refused = register(client, paid_from="2026-05-31", paid_to="2026-05-01")
    assert refused.context["page"].rows == [] and "The last day comes before the first." in refused.content.decode()


def test_the_register_downloads_as_csv_and_xlsx(books):
    client = signed_in(books.finance)
    query = {"paid_from": "2026-05-01", "paid_to": "2026-05-31"}

    response = client.get(reverse("dashboard:payments-download", args=["csv"]), query)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Payment register"]
    assert rows[1][:3] == ["Paid on", "Contract number", "Customer"]
    numbers = [row[1] for row in rows[2:-1]]
    assert numbers == [books.contracts[2].number, books.contracts[0].number]
    assert rows[-1][0] == "Total" and rows[-1][5] == "16000.00"

    response = client.get(reverse("dashboard:payments-download", args=["xlsx"]), query)
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:2] == ("Paid on", "Contract number")
    assert values[1][0].date() == date(2026, 5, 31)
    assert values[2][6] == 7000
    assert values[-1][5] == 16000

    assert client.get(reverse("dashboard:payments-download", args=["pdf"])).status_code == 404
    bad = client.get(reverse("dashboard:payments-download", args=["csv"]), {"kind": "nonsense"})
    assert bad.status_code == 400


def test_the_receivables_download_holds_the_selection(books):
    response = signed_in(books.finance).get(
        reverse("dashboard:receivables-download", args=["csv"]), {"bucket": "overdue"}
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Receivables"]
    body = rows[2 : 2 + 7]
    assert [row[6] for row in body] == ["90+ days overdue", "61–90 days overdue", "61–90 days overdue"] + [
        "31–60 days overdue",
        "31–60 days overdue",
        "0–30 days overdue",
        "0–30 days overdue",
    ]
    assert rows[9][0] == "Total" and rows[9][7] == "21100.31"


# Who may see it ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dashboard:receivables", "dashboard:payments"])
def test_a_role_without_the_permission_is_refused(books, name):
    assert signed_in(books.sales).get(reverse(name)).status_code == 403
    assert signed_in(books.designers[0]).get(reverse(name)).status_code == 403
    assert signed_in(books.admin).get(reverse(name)).status_code == 200


def test_the_receivables_link_shows_for_finance_only(books):
    assert reverse("dashboard:receivables") in signed_in(books.finance).get(reverse("dashboard:home")).content.decode()
    assert (
        reverse("dashboard:receivables") not in signed_in(books.sales).get(reverse("dashboard:home")).content.decode()
    )


def test_another_firms_records_never_show_nor_filter(books, firm_b):
    client = signed_in(books.finance)
    all_rows = listed(page(client))
    with tenant_context(firm_b):
        theirs = set(Instalment.objects.values_list("pk", flat=True))
        their_project = Instalment.objects.first().contract.project_id
    assert all_rows == ids(*books.due.values()) and not all_rows & theirs
    # Another firm's project or staff member is not a choice: the page shows the error, and no rows.
    foreign = page(client, project=their_project)
    assert foreign.context["page"].rows == [] and foreign.context["form"].errors
    with tenant_context(firm_b):
        outsider = Instalment.objects.first().contract.project.lead.designer
    assert page(client, designer=outsider.pk).context["page"].rows == []


# The payment reminder ----------------------------------------------------------------------------------------


def sweep(firm, at: datetime) -> int:
    with time_machine.travel(at.astimezone(UTC), tick=False), tenant_context(firm):
        return reminders.payment_reminders_send()


def reminder_keys(firm) -> list[str]:
    with tenant_context(firm):
        return sorted(
            Notification.objects.filter(idempotency_key__startswith="payment-reminder:").values_list(
                "idempotency_key", flat=True
            )
        )


@pytest.fixture
def falling_due(firm_a):
    with tenant_context(firm_a):
        contract = ContractFactory(project__lead__customer__mobile="13912345678", number="HT-REMIND")
        instalment = InstalmentFactory(contract=contract, amount=Decimal("12902.50"), due_on=date(2026, 6, 10))
    return instalment


def test_the_homeowner_is_reminded_once_before_the_due_day(firm_a, falling_due):
    # Three days before by default; before 09:00 firm time nothing goes out.
    assert sweep(firm_a, datetime(2026, 6, 6, 10, 0, tzinfo=SHANGHAI)) == 0
    assert sweep(firm_a, datetime(2026, 6, 7, 8, 59, tzinfo=SHANGHAI)) == 0
    assert sweep(firm_a, datetime(2026, 6, 7, 9, 0, tzinfo=SHANGHAI)) == 1
    assert sweep(firm_a, datetime(2026, 6, 7, 10, 0, tzinfo=SHANGHAI)) == 0
    with time_machine.travel(datetime(2026, 6, 8, 10, 0, tzinfo=SHANGHAI).astimezone(UTC), tick=False):
        tasks.send_payment_reminders.delay(tenant_id=firm_a.pk)  # the beat's task: nothing more
    assert reminder_keys(firm_a) == [f"payment-reminder:{falling_due.pk}:2026-06-10"]
    with tenant_context(firm_a):
        text = Notification.objects.get()
    assert text.recipient == "13912345678"
    assert text.sms_template == "contracts.payment_reminder"
    assert text.sms_params["amount"] == "12,902.50" and text.sms_params["contract"] == "HT-REMIND"
    assert "2026-06-10" in text.body and "HT-REMIND" in text.body


def test_a_moved_due_day_is_reminded_of_again(firm_a, falling_due):
    assert sweep(firm_a, datetime(2026, 6, 8, 9, 30, tzinfo=SHANGHAI)) == 1
    with tenant_context(firm_a):
        Instalment.objects.filter(pk=falling_due.pk).update(due_on=date(2026, 6, 20))
    assert sweep(firm_a, datetime(2026, 6, 9, 9, 30, tzinfo=SHANGHAI)) == 0  # 11 days ahead now
    assert sweep(firm_a, datetime(2026, 6, 17, 9, 30, tzinfo=SHANGHAI)) == 1
    assert sweep(firm_a, datetime(2026, 6, 18, 9, 30, tzinfo=SHANGHAI)) == 0
    assert reminder_keys(firm_a) == [
        f"payment-reminder:{falling_due.pk}:2026-06-10",
        f"payment-reminder:{falling_due.pk}:2026-06-20",
    ]


def test_no_reminder_when_turned_off_paid_or_overdue(firm_a, falling_due):
    with tenant_context(firm_a):
        ContractSettings.objects.create(payment_reminder_days_before=0)
    assert sweep(firm_a, datetime(2026, 6, 9, 10, 0, tzinfo=SHANGHAI)) == 0
    with tenant_context(firm_a):
        ContractSettings.objects.update(payment_reminder_days_before=5)
        Instalment.objects.filter(pk=falling_due.pk).update(paid_on=date(2026, 6, 1))
    assert sweep(firm_a, datetime(2026, 6, 9, 10, 0, tzinfo=SHANGHAI)) == 0
    with tenant_context(firm_a):
        Instalment.objects.filter(pk=falling_due.pk).update(paid_on=None)
    assert sweep(firm_a, datetime(2026, 6, 11, 10, 0, tzinfo=SHANGHAI)) == 0  # already overdue
    assert sweep(firm_a, datetime(2026, 6, 5, 10, 0, tzinfo=SHANGHAI)) == 1  # five days before
    assert reminder_keys(firm_a) == [f"payment-reminder:{falling_due.pk}:2026-06-10"]


def test_a_firm_without_settings_uses_the_default_and_writes_no_row(firm_a, falling_due):
    assert sweep(firm_a, datetime(2026, 6, 7, 10, 0, tzinfo=SHANGHAI)) == 1
    with tenant_context(firm_a):
        assert not ContractSettings.objects.exists()


def test_the_beat_reaches_every_firm_and_only_its_own_instalments(firm_a, firm_b, falling_due):
    with tenant_context(firm_b):
        InstalmentFactory(due_on=date(2026, 6, 9))
    with time_machine.travel(datetime(2026, 6, 8, 10, 0, tzinfo=SHANGHAI).astimezone(UTC), tick=False):
        tasks.sweep_payment_reminders.delay()
    assert len(reminder_keys(firm_a)) == 1
    assert len(reminder_keys(firm_b)) == 1


def test_the_contract_settings_page_sets_the_days(books):
    admin = signed_in(books.admin)
    url = reverse("contracts:settings")
    assert admin.get(url).context["form"]["payment_reminder_days_before"].value() == 3
    response = admin.post(url, contract_settings_posted(books.firm, payment_reminder_days_before="7"))
    assert response.status_code == 302, response.content[:800]
    with tenant_context(books.firm):
        assert ContractSettings.objects.get().payment_reminder_days_before == 7
        assert reminders.payment_reminder_days() == 7
    refused = admin.post(url, contract_settings_posted(books.firm, payment_reminder_days_before="61"))
    assert refused.status_code == 200 and set(refused.context["form"].errors) == {"payment_reminder_days_before"}
    with tenant_context(books.firm):
        assert ContractSettings.objects.get().payment_reminder_days_before == 7
    assert signed_in(books.finance).get(url).status_code == 403
    settings_home = admin.get(reverse("tenancy:settings")).content.decode()
    assert url in settings_home


# The API -----------------------------------------------------------------------------------------------------


def partner(firm, scopes=("contracts:read",)) -> Client:
    with tenant_context(firm):
        key = ApiKeyFactory(scopes=list(scopes))
    return Client(HTTP_AUTHORIZATION=f"Api-Key {key.raw_key}", HTTP_ACCEPT_LANGUAGE="en")


def test_the_api_lists_receivables_with_their_bucket(books):
    api = partner(books.firm)

    answer = api.get("/api/v1/receivables/", {"bucket": "31-60"})

    assert answer.status_code == 200, answer.content
    rows = answer.json()["results"]
    assert {row["id"] for row in rows} == ids(books.due["31"], books.due["60"])
    row = next(row for row in rows if row["id"] == books.due["60"].pk)
    p1, p2 = books.managers
    assert row["bucket"] == "31-60" and row["days_overdue"] == 60 and row["amount"] == "3000.03"
    assert row["contract_number"] == books.contracts[1].number and row["project_name"] == "Flat Li"
    assert row["designer"] == books.designers[1].pk and row["project_manager"] == p2.pk
    everything = api.get("/api/v1/receivables/").json()["results"]
    assert {row["id"] for row in everything} == ids(*books.due.values())
    assert {row["id"] for row in api.get("/api/v1/receivables/", {"pm": p1.pk}).json()["results"]} == ids(
        *[i for i in books.due.values() if i.contract_id == books.contracts[0].pk]
    )
    d1 = books.designers[0]
    assert len(api.get("/api/v1/receivables/", {"designer": d1.pk, "bucket": "overdue"}).json()["results"]) == 5


def test_the_api_totals_by_bucket(books):
    answer = partner(books.firm).get("/api/v1/receivables/totals/", {"pm": books.managers[1].pk})

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["as_of"] == "2026-06-01"
    buckets = {line["bucket"]: line for line in body["buckets"]}
    assert buckets["31-60"] == {"bucket": "31-60", "label": "31–60 days overdue", "count": 1, "amount": "3000.03"}
    assert buckets["overdue"]["amount"] == "7000.07"
    assert body["total"]["amount"] == "7700.77" and body["total"]["count"] == 4


def test_the_api_needs_contracts_read_and_refuses_other_roles(books, firm_b):
    assert partner(books.firm, scopes=["leads:read"]).get("/api/v1/receivables/").status_code == 403
    assert signed_in(books.sales).get("/api/v1/receivables/").status_code == 403
    assert signed_in(books.finance).get("/api/v1/receivables/").status_code == 200
    # Firm B's key sees firm B's rows only, and firm A's staff is not a filter value there.
    theirs = partner(firm_b).get("/api/v1/receivables/").json()["results"]
    assert not {row["id"] for row in theirs} & ids(*books.due.values())
    assert partner(firm_b).get("/api/v1/receivables/", {"designer": books.designers[0].pk}).status_code == 400
    assert partner(books.firm).get("/api/v1/receivables/", {"bucket": "someday"}).status_code == 400


def test_the_api_and_the_page_cost_the_same_queries_whatever_the_rows(books):
    api = partner(books.firm)
    client = signed_in(books.finance)

    def cost():
        counts = []
        for request in (
            lambda: api.get("/api/v1/receivables/"),
            lambda: api.get("/api/v1/receivables/totals/"),
            lambda: client.get(reverse("dashboard:receivables"), {"by": "pm"}),
            lambda: client.get(reverse("dashboard:payments")),
            lambda: client.get(reverse("dashboard:receivables-download", args=["xlsx"])),
        ):
            request()
            with CaptureQueriesContext(connection) as queries:
                assert request().status_code == 200
            counts.append(len(queries))
        return counts

    before = cost()
    with tenant_context(books.firm):
        for n in range(5):
            site = WorksiteFactory(project_manager=member(books.firm, "project_manager", f"extra{n}"))
            InstalmentFactory(contract=site.contract, due_on=ago(n * 20))
            InstalmentFactory(contract=site.contract, due_on=ago(n), paid_on=TODAY, recorded_by=books.finance)
    assert cost() == before
