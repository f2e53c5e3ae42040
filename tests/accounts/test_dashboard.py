from datetime import UTC, date, datetime

import pytest
import time_machine
from django.urls import reverse

pytestmark = pytest.mark.usefixtures("english")


def test_dashboard_has_a_section_per_stage_the_role_may_see(client, sales_a):
    client.force_login(sales_a)

    response = client.get(reverse("dashboard:home"))

    keys = [section.entry.key for section in response.context["sections"]]
    # A customer manager works leads, contracts and worksites; aftercare, callbacks and complaints are not theirs.
    assert keys == ["leads", "contracts", "worksites"]
    html = response.content.decode()
    assert "Hello, Li Lei" in html
    assert "Customer manager" in html
    assert "Firm A" in html
    assert html.count("Nothing to show yet.") == 3


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
