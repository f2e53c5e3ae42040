"""The Reports area: the selectors added for it (exact figures from known February data), the report
definitions' tables, the pages with their period picker, who may open them, masking, another firm's data
and query counts that do not grow with the data."""

import csv
import io
from datetime import date

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from callbacks import selectors as callback_selectors
from complaints import selectors as complaint_selectors
from leads.models import Lead
from renocrm.accounts.roles import Role
from renocrm.dashboard.reports.callback_report import callback_tables
from renocrm.dashboard.reports.catalogue import REPORTS
from renocrm.dashboard.reports.complaint_report import complaint_tables
from renocrm.dashboard.reports.lead_report import lead_tables_from
from renocrm.dashboard.reports.satisfaction_report import staff_tables
from renocrm.dashboard.reports.tables import Viewer
from renocrm.periods import CUSTOM, Period
from renocrm.tenancy.context import tenant_context
from tests.dashboard import report_fixtures
from tests.dashboard.report_fixtures import (
    FEB,
    FEB_QUERY,
    FORMULA,
    OVERDUE_MOBILE,
    TODAY,
    UNREACHABLE_MOBILE,
    add_february,
    add_more,
    client_for,
)
from tests.leads.factories import LeadFactory, ReferralRewardFactory

pytestmark = pytest.mark.usefixtures("english")

february = report_fixtures.february  # the fixture

FEB_PERIOD = Period(CUSTOM, *FEB)
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(autouse=True)
def still_clock():
    with time_machine.travel(TODAY, tick=False):
        yield


def url(key="callbacks"):
    return reverse("dashboard:report", args=[key])


def download_url(key, fmt):
    return reverse("dashboard:report-download", args=[key, fmt])


def table(tables, title):
    [found] = [t for t in tables if str(t.title) == title]
    return found


def rows(found):
    return [[str(v) if not isinstance(v, int | float | date | type(None)) else v for v in row] for row in found.rows]


# Selectors ----------------------------------------------------------------------------------------------------


def test_callbacks_needing_attention_are_the_unreachable_and_the_overdue(firm_a, february):
    with tenant_context(firm_a):
        found = callback_selectors.callbacks_needing_attention(*FEB)
    assert [(c.due_on, c.status, c.customer.name) for c in found] == [
        (date(2026, 2, 5), "unreachable", "Zhao Lei"),
        (date(2026, 2, 10), "open", "Sun Li"),
    ]


def test_suggestions_count_the_same_words_together_most_given_first(firm_a, february):
    with tenant_context(firm_a):
        found = callback_selectors.survey_suggestions(*FEB)
    assert [(row["text"], row["count"]) for row in found] == [
        ("Faster repairs", 2),
        ("Call me on 13700001111", 1),
        (FORMULA, 1),
    ]


def test_monthly_satisfaction_covers_the_months_asked_for(firm_a, february):
    with tenant_context(firm_a):
        trend = callback_selectors.satisfaction_monthly("designer", first=date(2025, 12, 15), last=date(2026, 2, 3))
    assert trend["months"] == [date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]
    assert {row["name"]: [(p["answers"], p["satisfied_share"]) for p in row["points"]] for row in trend["rows"]} == {
        "Li": [(0, None), (1, 0.0), (3, 66.7)],
        "Wu": [(0, None), (0, None), (2, 50.0)],
    }


def test_complaint_resolution_stats(firm_a, february):
    with tenant_context(firm_a):
        stats = complaint_selectors.complaint_resolution_stats(start=FEB[0], end=FEB[1])
    assert (stats["opened"], stats["resolved"], stats["open"]) == (4, 2, 2)
    assert (stats["mean"].total_seconds() / 3600, stats["longest"].total_seconds() / 3600) == (20.0, 30.0)


# The tables -----------------------------------------------------------------------------------------------------


def test_callback_report_tables(firm_a, february):
    with tenant_context(firm_a), translation.override("en"):
        tables = callback_tables(FEB_PERIOD, Viewer())
        assert [str(t.title) for t in tables] == [
            "Summary",
            "Satisfaction",
            "Net promoter score",
            "Defects per trade",
            "Top suggestions",
            "Overdue and unreachable callbacks",
        ]
        assert rows(tables[0]) == [
            ["Planned callbacks", 9],
            ["Done", 6],
            ["Unreachable", 1],
            ["Overdue", 1],
            ["Cancelled", 1],
            ["Completion rate (%)", 66.7],
            ["Surveys answered", 5],
            ["Satisfied (%)", 60.0],
            ["Net promoter score", 25.0],
        ]
        assert [row[1:] for row in tables[1].rows] == [[2, 40.0], [1, 20.0], [1, 20.0], [1, 20.0], [0, 0.0]]
        assert tables[1].total[1:] == [5, 100.0]
        assert [row[1:] for row in tables[2].rows] == [[2, 50.0], [1, 25.0], [1, 25.0]]
        # Trade, then leak, uneven, seal, crack, other, total.
        assert rows(tables[3]) == [["Painting", 0, 1, 0, 1, 0, 2], ["Plumbing & electrical", 1, 0, 0, 0, 0, 1]]
        assert tables[3].total[1:] == [1, 1, 0, 1, 0, 3]
        # No viewer: free text is masked.
        assert rows(tables[4]) == [
            ["Faster repairs", 2, date(2026, 2, 12)],
            ["Call me on 137****1111", 1, date(2026, 2, 12)],
            [FORMULA, 1, date(2026, 2, 12)],
        ]
        assert rows(tables[5]) == [
            ["Unreachable", date(2026, 2, 5), "1 month after handover", "Zhao Lei", "138****1234", "", 3],
            ["Overdue", date(2026, 2, 10), "1 month after handover", "Sun Li", "139****6666", "", 0],
        ]


def test_staff_ranking_and_trend(firm_a, february):
    with tenant_context(firm_a), translation.override("en"):
        tables = staff_tables(FEB_PERIOD, Viewer())
        assert [str(t.title) for t in tables] == [
            "Designers",
            "Designers: trend by month",
            "Project managers",
            "Project managers: trend by month",
            "QC inspectors",
            "QC inspectors: trend by month",
            "Customer service agents",
            "Customer service agents: trend by month",
        ]
        designers, trend = tables[0], tables[1]
        assert designers.rows == [["Li", 3, 2, 66.7, 3.67, 33.3, 3], ["Wu", 2, 1, 50.0, 4.0, 0.0, 1]]
        assert designers.total[1:4] == [5, 3, 60.0]
        # Six months up to February, each with its share and the answers behind it.
        assert [str(c.label) for c in trend.columns[:3]] == ["Staff member", "2025-09 %", "2025-09 answers"]
        assert trend.rows[0] == ["Li", None, 0, None, 0, None, 0, None, 0, 0.0, 1, 66.7, 3]
        assert tables[2].rows == [["Pan", 1, 1, 100.0, None, 100.0, 1]]
        assert tables[4].rows == [] and tables[4].total[1:4] == [0, 0, None]


def test_complaint_concentration_tables(firm_a, february):
    with tenant_context(firm_a), translation.override("en"):
        summary, category, trade, staff, level = complaint_tables(FEB_PERIOD, Viewer())
        assert [row[1] for row in summary.rows] == [4, 2, 2, 20.0, 30.0]
        assert rows(category) == [["Quality", 3, 1, 0], ["Schedule", 1, 1, 1]]
        assert category.total[1:] == [4, 2, 1]
        assert rows(trade) == [["Painting", 2, 1, 0], ["No trade named", 1, 1, 1], ["Carpentry", 1, 0, 0]]
        assert rows(staff) == [["Pan", 2, 1, 1, 2], ["Nobody named", 2, 1, 0, 1]]
        assert staff.total[1:] == [4, 2, 1, None]
        assert [row[1] for row in level.rows] == [3, 1, 0] and level.total[1] == 4


def test_lead_tables_follow_the_leads_selectors_contract():
    from decimal import Decimal

    funnel = [
        {"channel": "referral", "label": "Referral", "created": 4, "contacted": 3, "measured": 2, "proposal": 2,
         "won": 1, "lost": 1, "win_rate": 0.5},
        {"channel": "online", "label": "Online", "created": 2, "contacted": 1, "measured": 0, "proposal": 0,
         "won": 0, "lost": 0, "win_rate": None},
    ]  # fmt: skip
    referrals = [
        {"referrer_id": 7, "referrer_name": "Wang", "referred": 3, "won": 1, "rewards_pending": 1,
         "rewards_fulfilled": 0, "reward_amount": Decimal("500.00")},
    ]  # fmt: skip
    with translation.override("en"):
        funnel_table, referral_table = lead_tables_from(funnel, referrals)
    assert funnel_table.rows == [["Referral", 4, 3, 2, 2, 1, 1, 50.0], ["Online", 2, 1, 0, 0, 0, 0, None]]
    assert funnel_table.total[1:] == [6, 4, 2, 2, 1, 1, 16.7]
    assert referral_table.rows == [["Wang", 3, 1, 1, 0, Decimal("500.00")]]
    assert referral_table.total[1:] == [3, 1, 1, 0, Decimal("500.00")]


# The pages --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ADMIN, Role.CUSTOMER_SERVICE, Role.FINANCE])
def test_reports_open_for_roles_with_reports_view(client, firm_a, role):
    client_for(client, firm_a, role)
    response = client.get(reverse("dashboard:reports"), **EN)
    assert response.status_code == 200
    for report in REPORTS:
        assert url(report.key) in response.content.decode()
    for report in ("callbacks", "satisfaction", "complaints", "leads"):
        assert client.get(url(report), **EN).status_code == 200


@pytest.mark.parametrize("role", [Role.SALES, Role.DESIGNER, Role.PROJECT_MANAGER])
def test_other_roles_may_not_open_reports(client, firm_a, role):
    client_for(client, firm_a, role)
    assert client.get(reverse("dashboard:reports")).status_code == 403
    assert client.get(url()).status_code == 403
    assert client.get(reverse("dashboard:report-download", args=["callbacks", "csv"])).status_code == 403


def test_unknown_report_or_format_is_404(staff_client):
    assert staff_client.get(url("nope")).status_code == 404
    assert staff_client.get(reverse("dashboard:report-download", args=["callbacks", "pdf"])).status_code == 404


def test_finance_sees_masked_mobiles_without_a_reveal_button(client, firm_a, february):
    client_for(client, firm_a, Role.FINANCE)
    html = client.get(url(), FEB_QUERY, **EN).content.decode()
    assert "138****1234" in html and "139****6666" in html
    assert UNREACHABLE_MOBILE not in html and OVERDUE_MOBILE not in html
    assert 'data-testid="reveal"' not in html
    assert "137****1111" in html and "13700001111" not in html  # a number inside a suggestion


def test_customer_service_page_masks_first_with_a_recorded_reveal(client, firm_a, february):
    client_for(client, firm_a, Role.CUSTOMER_SERVICE)
    html = client.get(url(), FEB_QUERY, **EN).content.decode()
    assert "138****1234" in html and UNREACHABLE_MOBILE not in html
    assert html.count('data-testid="reveal"') == 2


def test_the_page_shows_the_period_and_download_links_for_it(staff_client, february):
    response = staff_client.get(url(), FEB_QUERY, **EN)
    html = response.content.decode()
    assert "Zhao Lei" in html and "Faster repairs" in html
    download = reverse("dashboard:report-download", args=["callbacks", "xlsx"])
    assert f"{download}?period=custom&amp;start=2026-02-01&amp;end=2026-02-28" in html


def test_formula_text_is_escaped_on_the_page(staff_client, february):
    html = staff_client.get(url(), FEB_QUERY, **EN).content.decode()
    assert "=HYPERLINK(&quot;http://evil.example&quot;,&quot;click&quot;)" in html


def test_invalid_custom_period_gives_field_errors_and_the_default_period(staff_client, february):
    response = staff_client.get(url(), {"period": "custom", "start": "2026-02-10", "end": "2026-02-01"}, **EN)
    html = response.content.decode()
    assert response.status_code == 200
    assert "The last day comes before the first." in html
    # The default period (this month, February 2026) is what is shown.
    assert response.context["period"] == Period("month", date(2026, 2, 1), date(2026, 2, 28))
    response = staff_client.get(url(), {"period": "custom", "start": "not a day"}, **EN)
    assert "Give the last day." in response.content.decode()


def test_a_download_of_an_invalid_period_is_refused(staff_client):
    download = reverse("dashboard:report-download", args=["callbacks", "csv"])
    response = staff_client.get(download, {"period": "custom", "start": "2026-02-10"}, **EN)
    assert response.status_code == 400
    assert "Give the last day." in response.content.decode()


def add_leads(firm, *, referrer="Wang", n=1):
    """Leads created today (20 February): ``n`` online leads, one of them won, and a referral by
    ``referrer`` with a pending reward of 500."""
    with tenant_context(firm):
        for i in range(n):
            LeadFactory(channel=Lead.Channel.ONLINE, status=Lead.Status.WON if i == 0 else Lead.Status.NEW)
        ReferralRewardFactory(referrer__name=referrer)


def test_the_lead_funnel_and_referrals_page_and_download(staff_client, firm_a):
    add_leads(firm_a, n=2)
    html = staff_client.get(url("leads"), FEB_QUERY, **EN).content.decode()
    assert "Lead funnel by channel" in html and "Wang" in html
    rows = list(
        csv.reader(io.StringIO(staff_client.get(download_url("leads", "csv"), FEB_QUERY).content.decode("utf-8-sig")))
    )
    online = next(row for row in rows if row and row[0] == str(Lead.Channel.ONLINE.label))
    assert online == [str(Lead.Channel.ONLINE.label), "2", "1", "1", "1", "1", "0", "50.0"]
    assert next(row for row in rows if row and row[0] == "Wang") == ["Wang", "1", "0", "1", "0", "500.00"]


def test_another_firms_data_never_appears(client, firm_a, firm_b, february):
    with tenant_context(firm_b):
        add_february(firm_b)
        add_more(firm_b, 1, tag="FirmB")
    client_for(client, firm_a, Role.ADMIN)
    add_leads(firm_b, referrer="FirmB-referrer")
    for key in ("callbacks", "satisfaction", "complaints", "leads"):
        html = client.get(url(key), FEB_QUERY, **EN).content.decode()
        csv_text = client.get(reverse("dashboard:report-download", args=[key, "csv"]), FEB_QUERY).content.decode()
        for text in (html, csv_text):
            assert "FirmB" not in text and "Masonry" not in text
    html = client.get(url("callbacks"), FEB_QUERY, **EN).content.decode()
    assert html.count('data-testid="reveal"') == 2


def test_report_pages_and_downloads_answer_in_queries_that_do_not_grow(staff_client, firm_a, february):
    add_leads(firm_a)

    def count():
        sizes = {}
        for key in ("callbacks", "satisfaction", "complaints", "leads"):
            for name, args in (("dashboard:report", [key]), ("dashboard:report-download", [key, "xlsx"])):
                with CaptureQueriesContext(connection) as captured:
                    assert staff_client.get(reverse(name, args=args), FEB_QUERY, **EN).status_code == 200
                sizes[(key, name)] = len(captured.captured_queries)
        return sizes

    before = count()
    with tenant_context(firm_a):
        add_more(firm_a, 5)
    add_leads(firm_a, referrer="Li Na", n=5)
    after = count()
    assert before == after
