"""The home dashboard of each role: exact figures from the fixture's records (built in firm A and firm B alike,
so a figure that crossed firms would come out doubled), the period picker, and links that lead to the list
showing exactly the rows counted."""

from decimal import Decimal

import pytest
from django.urls import reverse

from tests.dashboard.conftest import ROLES

pytestmark = pytest.mark.usefixtures("english")

EXPECTED = {
    "sales": {
        "status-new": 2,
        "status-contacted": 1,
        "status-measured": 1,
        "status-proposal": 1,
        "status-won": 3,
        "status-lost": 1,
        "follow-ups-due": 1,
        "follow-ups-overdue": 2,
        "leads-created": 7,
        "leads-won": 1,
        "win-rate": 14.3,
        "channel-online": 3,
        "channel-showroom": 1,
        "channel-referral": 1,
        "channel-phone": 2,
    },
    "designer": {
        "worksites-in-progress": 1,
        "worksites-not-started": 0,
        "phase-plumbing_electrical": 1,
        "phases-late": 1,
        "phases-due": 1,
        "rectification-overdue": 0,
        "rectification-outstanding": 1,
    },
    "project_manager": {
        "worksites-in-progress": 1,
        "worksites-not-started": 1,
        "phase-demolition": 1,
        "phase-plumbing_electrical": 1,
        "phases-late": 1,
        "phases-due": 2,
        "rectification-overdue": 1,
        "rectification-outstanding": 2,
    },
    "qc": {
        "inspections-pending": 1,
        "inspection-mid_term": 1,
        "inspection-waterproofing_test": 0,
        "rectification-recheck": 1,
        "rectification-overdue": 2,
        "worksites-in-progress": 1,
        "phase-plumbing_electrical": 1,
    },
    "customer_service": {
        "callbacks-due": 1,
        "callbacks-overdue": 1,
        "completion-rate": 16.7,
        "callbacks-planned": 6,
        "outcome-done": 1,
        "outcome-unreachable": 1,
        "outcome-overdue": 2,
        "outcome-waiting": 2,
        "complaints-overdue": 1,
        "complaints-due-soon": 1,
        "complaints-on-time": 1,
        "repairs-late": 1,
    },
    "finance": {
        "contracts-signed": 2,
        "contracts-amount": Decimal("350000.00"),
        "package-half": Decimal("0.00"),
        "package-full": Decimal("100000.00"),
        "package-whole_house": Decimal("250000.00"),
        "instalments-overdue": 1,
        "instalments-overdue-amount": Decimal("30000.00"),
        "instalments-due": 1,
        "instalments-due-amount": Decimal("60000.00"),
    },
    "admin": {
        "leads-created": 7,
        "trend-2026-03-03": 1,
        "trend-2026-03-05": 1,
        "trend-2026-03-18": 5,
        "trend-2026-03-19": 0,
        "channel-online": 3,
        "channel-phone": 2,
        "contracts-signed": 2,
        "contracts-amount": Decimal("350000.00"),
        "worksites-in-progress": 2,
        "worksites-not-started": 1,
        "handovers": 1,
        "phase-demolition": 1,
        "phase-plumbing_electrical": 1,
        "phase-carpentry": 1,
        "coverages-expiring": 1,
        "repairs-late": 1,
        "satisfaction-rate": 50.0,
        "nps": 0,
        "surveys": 2,
        "complaints-opened": 4,
        "level-1": 2,
        "level-2": 1,
        "level-3": 1,
    },
}


def home(client, **query):
    return client.get(reverse("dashboard:home"), query, HTTP_ACCEPT_LANGUAGE="en")


def figures(response, keys):
    dashboard = response.context["dashboard"]
    return {key: dashboard.figure(key).value for key in keys}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_its_own_figures(client, two_firms, role):
    staff, _ = two_firms
    client.force_login(staff.of(role))

    response = home(client)

    assert response.status_code == 200
    assert figures(response, EXPECTED[role]) == EXPECTED[role]
    html = response.content.decode()
    for key in EXPECTED[role]:
        figure = response.context["dashboard"].figure(key)
        # Every figure is a link to the list behind it, written out with its label and value.
        assert figure.href
        assert figure.href.replace("&", "&amp;") in html
        assert f"{figure.shown}</" in html


@pytest.mark.parametrize("role", ROLES)
def test_charts_are_inline_svg_with_a_title_and_linked_shapes(client, two_firms, role):
    staff, _ = two_firms
    client.force_login(staff.of(role))

    html = home(client).content.decode()

    assert '<svg class="chart__svg"' in html
    assert 'role="img"' in html and "<title id=" in html and "<desc id=" in html
    assert '<a class="chart__link" href="' in html
    assert "<script" not in html.split('<main id="main"', 1)[-1].split("</main>", 1)[0]


def test_money_and_rates_are_written_out(client, two_firms):
    staff, _ = two_firms
    client.force_login(staff.finance)
    html = home(client).content.decode()
    assert "¥350,000" in html
    assert "¥30,000" in html

    client.force_login(staff.customer_service)
    html = home(client).content.decode()
    assert "16.7 %" in html


def test_the_most_pressing_records_are_listed(client, two_firms):
    staff, records = two_firms
    client.force_login(staff.customer_service)

    card = home(client).context["dashboard"].card("complaints")

    complaints = records["complaints"]
    assert [row.record for row in card.rows] == [complaints["overdue"], complaints["due-soon"]]
    assert [row.clock.state for row in card.rows] == ["overdue", "due_soon"]

    client.force_login(staff.project_manager)
    card = home(client).context["dashboard"].card("late-phases")
    assert [row.record.kind for row in card.rows] == ["plumbing_electrical"]
    assert card.rows[0].href == reverse("worksites:detail", args=[records["worksites"][0].pk])


def test_another_firms_records_never_show(client, two_firms, firm_b, in_firm):
    from complaints.models import Complaint

    staff, _ = two_firms
    client.force_login(staff.customer_service)
    with in_firm(firm_b):
        theirs = list(Complaint.objects.values_list("pk", flat=True))

    html = home(client).content.decode()

    assert theirs
    for pk in theirs:
        assert reverse("complaints:detail", args=[pk]) not in html


# The period picker --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "start", "end", "expected"),
    [
        ({}, "2026-03-01", "2026-03-31", {"leads-created": 7, "contracts-signed": 2, "complaints-opened": 4}),
        ({"period": "month"}, "2026-03-01", "2026-03-31", {"leads-created": 7, "contracts-signed": 2}),
        ({"period": "week"}, "2026-03-16", "2026-03-22", {"leads-created": 5, "contracts-signed": 1, "handovers": 0}),
        (
            {"period": "half"},
            "2026-01-01",
            "2026-06-30",
            {"leads-created": 8, "contracts-signed": 3, "complaints-opened": 5, "trend-2026-02-01": 1},
        ),
        (
            {"period": "custom", "start": "2026-03-01", "end": "2026-03-10"},
            "2026-03-01",
            "2026-03-10",
            {"leads-created": 2, "contracts-signed": 1, "complaints-opened": 1},
        ),
    ],
)
def test_figures_in_a_period_follow_the_picker(client, two_firms, query, start, end, expected):
    staff, _ = two_firms
    client.force_login(staff.admin)

    response = home(client, **query)

    period = response.context["period"]
    assert (period.start.isoformat(), period.end.isoformat()) == (start, end)
    assert figures(response, expected) == expected
    # Figures that are not in a period stay put, and the contract list is asked for the same dates.
    assert response.context["dashboard"].figure("worksites-in-progress").value == 2
    assert response.context["dashboard"].figure("contracts-signed").href == (
        f"{reverse('contracts:list')}?signed_from={start}&signed_to={end}"
    )
    assert f'data-testid="period-range"><time datetime="{start}">' in response.content.decode()


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"start": "2026-03-10", "end": "2026-03-01"}, "end", "The last day comes before the first."),
        ({"start": "someday", "end": "2026-03-01"}, "start", "Enter a valid date."),
        ({"end": "2026-03-01"}, "start", "Give the first day."),
    ],
)
def test_bad_custom_dates_show_the_error_and_fall_back_to_this_month(client, two_firms, query, field, message):
    staff, _ = two_firms
    client.force_login(staff.admin)

    response = home(client, period="custom", **query)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-testid="period-error-{field}">{message}</p>' in html
    assert '<details class="dash-period__custom" open>' in html
    period = response.context["period"]
    assert (period.kind, period.start.isoformat(), period.end.isoformat()) == ("month", "2026-03-01", "2026-03-31")
    assert response.context["dashboard"].figure("leads-created").value == 7


def test_the_period_tabs_mark_the_current_one(client, two_firms):
    staff, _ = two_firms
    client.force_login(staff.sales)

    html = home(client, period="week").content.decode()

    assert f'href="{reverse("dashboard:home")}?period=week" data-testid="period-week" aria-current="page"' in html
    assert 'data-testid="period-month" aria-current' not in html


# Links lead to exactly the rows counted ------------------------------------------------------------------------


def follow(client, href):
    response = client.get(href, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response


def test_the_signed_contracts_link_lists_exactly_those_contracts(client, two_firms):
    staff, records = two_firms
    client.force_login(staff.finance)
    figure = home(client, period="week").context["dashboard"].figure("contracts-signed")

    listed = follow(client, figure.href).context["contracts"]

    assert figure.value == 1
    assert [contract.pk for contract in listed] == [records["contracts"][1].pk]


def test_the_pipeline_link_lists_exactly_the_won_leads(client, two_firms):
    staff, _ = two_firms
    client.force_login(staff.sales)
    figure = home(client).context["dashboard"].figure("status-won")

    listed = follow(client, figure.href).context["leads"]

    assert len(listed) == figure.value == 3
    assert {lead.status for lead in listed} == {"won"}


def test_the_overdue_rectification_link_lists_exactly_my_overdue_items(client, two_firms):
    staff, _ = two_firms
    client.force_login(staff.project_manager)
    figure = home(client).context["dashboard"].figure("rectification-overdue")

    listed = follow(client, figure.href).context["items"]

    assert len(listed) == figure.value == 1
    assert listed[0].owner == staff.project_manager


def test_the_overdue_callbacks_link_lists_exactly_my_overdue_callbacks(client, two_firms):
    staff, _ = two_firms
    client.force_login(staff.customer_service)
    figure = home(client).context["dashboard"].figure("callbacks-overdue")

    listed = follow(client, figure.href).context["rows"]

    assert len(listed) == figure.value == 1
    assert listed[0].assigned_to == staff.customer_service


def test_the_phase_bar_lists_exactly_my_worksites_in_that_phase(client, two_firms):
    staff, records = two_firms
    client.force_login(staff.project_manager)
    figure = home(client).context["dashboard"].figure("phase-demolition")

    listed = follow(client, figure.href).context["worksites"]

    assert [worksite.pk for worksite in listed] == [records["worksites"][1].pk]
    assert figure.value == 1
