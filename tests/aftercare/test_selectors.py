"""Report figures: coverages ending within N days and the repair SLA compliance of a period, computed in
SQL with a fixed number of queries."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from aftercare import selectors
from aftercare.models import RepairRequest
from tests.aftercare.factories import CoverageFactory, RepairRequestFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2027, 3, 1)


def test_coverages_expiring_within_n_days(firm, django_assert_num_queries):
    soon = CoverageFactory(starts_on=date(2025, 3, 1), ends_on=TODAY + timedelta(days=5))
    CoverageFactory(starts_on=date(2025, 3, 1), ends_on=TODAY + timedelta(days=45))
    CoverageFactory(starts_on=date(2025, 3, 1), ends_on=TODAY - timedelta(days=1))  # ended
    with django_assert_num_queries(1):
        assert selectors.coverages_expiring_count(within_days=30, today=TODAY) == 1
    with django_assert_num_queries(1):
        rows = selectors.coverages_expiring_list(within_days=60, today=TODAY)
        assert [r.project.customer.name for r in rows]  # loaded with the rows
    assert rows[0] == soon and rows[0].status == selectors.EXPIRING_SOON and rows[0].days_left == 5
    assert selectors.coverages_expiring_count(within_days=60, today=TODAY) == 2


def reported(day, hour, *, responded_after=None, on_site_after=None, **fields):
    at = datetime(2027, 3, day, hour, tzinfo=SHANGHAI)
    return RepairRequestFactory(
        reported_at=at,
        respond_by=at + timedelta(hours=24),
        on_site_by=at + timedelta(hours=72),
        responded_at=at + timedelta(hours=responded_after) if responded_after is not None else None,
        on_site_at=at + timedelta(hours=on_site_after) if on_site_after is not None else None,
        **fields,
    )


def test_repair_sla_compliance_for_a_period(firm, django_assert_num_queries):
    reported(1, 0, responded_after=2, on_site_after=30)  # both in time; 00:00 firm time is in the period
    reported(5, 12, responded_after=30, on_site_after=80)  # both late
    reported(10, 9)  # neither yet
    reported(10, 9, responded_after=1, status=RepairRequest.Status.CANCELLED)  # left out
    reported(12, 9, responded_after=1)  # after the period
    with django_assert_num_queries(1):
        figures = selectors.repair_sla_compliance(start=date(2027, 3, 1), end=date(2027, 3, 11))
    assert (figures.reported, figures.responded, figures.responded_in_time) == (3, 2, 1)
    assert (figures.on_site, figures.on_site_in_time) == (2, 1)
    assert figures.response_rate == 1 / 3 and figures.on_site_rate == 1 / 3
    empty = selectors.repair_sla_compliance(start=date(2020, 1, 1), end=date(2020, 1, 2))
    assert empty.reported == 0 and empty.response_rate is None
