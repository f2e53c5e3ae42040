from datetime import UTC, date, datetime

import pytest
import time_machine
from django.urls import reverse

pytestmark = pytest.mark.usefixtures("english")


def test_the_dashboard_greets_and_shows_the_roles_cards(client, sales_a):
    client.force_login(sales_a)

    response = client.get(reverse("dashboard:home"))

    # A customer manager's dashboard is about leads: the pipeline, their follow-ups and conversion by channel.
    assert [card.key for card in response.context["dashboard"].cards] == ["pipeline", "follow-ups", "conversion"]
    html = response.content.decode()
    assert "Hello, Li Lei" in html
    assert "Customer manager" in html
    assert "Firm A" in html
    # An empty firm: every chart says so instead of drawing nothing.
    assert html.count("Nothing to show yet.") == 2


@pytest.mark.parametrize(
    ("zone", "expected"), [("Asia/Shanghai", date(2026, 3, 2)), ("Europe/London", date(2026, 3, 1))]
)
def test_today_is_the_date_in_the_firms_time_zone(client, sales_a, firm_a, zone, expected):
    firm_a.time_zone = zone
    firm_a.save()
    client.force_login(sales_a)

    with time_machine.travel(datetime(2026, 3, 1, 17, 30, tzinfo=UTC), tick=False):
        response = client.get(reverse("dashboard:home"))

    assert response.context["today"] == expected
    assert f'datetime="{expected.isoformat()}"' in response.content.decode()
    # "This month" is the firm's month: March in Shanghai, still February in London.
    assert response.context["period"].start == expected.replace(day=1)
