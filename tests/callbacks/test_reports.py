"""Callback and satisfaction reports against known surveys: exact figures, the firm's calendar for the
period's edges, and query counts that do not grow with the data."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from callbacks import selectors
from callbacks.models import Callback
from tests.callbacks.conftest import member
from tests.callbacks.factories import CallbackFactory, SurveyDefectFactory, SurveyFactory

FEB = (date(2026, 2, 1), date(2026, 2, 28))
TODAY = datetime(2026, 2, 20, 4, 0, tzinfo=UTC)


def survey(at, *, overall, nps=None, designer=None, rating=None, due_on=date(2026, 2, 2), **fields):
    return SurveyFactory(
        callback__due_on=due_on,
        submitted_at=at,
        overall=overall,
        nps=nps,
        designer=designer,
        designer_rating=rating,
        **fields,
    )


@pytest.fixture
def month(firm):
    """February 2026 (Shanghai): designer Li has three answers, designer Wu two; one survey falls just
    inside the month's first minutes and one just after its end."""
    li, wu = member(firm, role="designer", name="Li"), member(firm, role="designer", name="Wu")
    qc = member(firm, role="qc", name="Qian")
    first_minutes = datetime(2026, 1, 31, 16, 10, tzinfo=UTC)  # 00:10 on 1 February in Shanghai
    mid = datetime(2026, 2, 12, 2, 0, tzinfo=UTC)
    surveys = [
        survey(first_minutes, overall=5, nps=10, designer=li, rating=5, qc_inspector=qc, qc_rating=5),
        survey(mid, overall=4, nps=9, designer=li, rating=4, qc_inspector=qc, qc_rating=4),
        survey(mid, overall=2, nps=3, designer=li, rating=2),
        survey(mid, overall=3, nps=7, designer=wu, rating=3),
        survey(mid, overall=5, designer=wu, rating=5),
    ]
    # 00:30 on 1 March in Shanghai: March's, not February's.
    survey(datetime(2026, 2, 28, 16, 30, tzinfo=UTC), overall=1, nps=0, designer=li, due_on=date(2026, 3, 2))
    SurveyDefectFactory(survey=surveys[0], trade="painting", kind="crack")
    SurveyDefectFactory(survey=surveys[2], trade="painting", kind="crack")
    SurveyDefectFactory(survey=surveys[2], trade="painting", kind="uneven")
    SurveyDefectFactory(survey=surveys[3], trade="plumbing_electrical", kind="leak")
    S = Callback.Status
    CallbackFactory(due_on=date(2026, 2, 5), status=S.UNREACHABLE)
    CallbackFactory(due_on=date(2026, 2, 6), status=S.CANCELLED)
    CallbackFactory(due_on=date(2026, 2, 10), status=S.OPEN)
    CallbackFactory(due_on=date(2026, 2, 5), status=S.RETRY)
    CallbackFactory(due_on=date(2026, 2, 27), status=S.SCHEDULED)
    CallbackFactory(due_on=date(2026, 1, 30), status=S.OPEN)  # January's
    return {"li": li, "wu": wu, "qc": qc}


def test_callback_stats_count_the_period_by_due_day(month):
    with time_machine.travel(TODAY, tick=False):
        stats = selectors.callback_stats(*FEB)
    assert stats == {
        "planned": 9,
        "done": 5,
        "unreachable": 1,
        "overdue": 2,
        "cancelled": 1,
        "completion_rate": 55.6,
    }


def test_satisfaction_by_designer(month):
    rows = selectors.satisfaction_by_staff("designer", *FEB)
    assert rows == [
        {
            "staff_id": month["li"].pk,
            "name": "Li",
            "answers": 3,
            "satisfied": 2,
            "satisfied_share": 66.7,
            "average_rating": 3.67,
            "nps": 33.3,
            "nps_answers": 3,
        },
        {
            "staff_id": month["wu"].pk,
            "name": "Wu",
            "answers": 2,
            "satisfied": 1,
            "satisfied_share": 50.0,
            "average_rating": 4.0,
            "nps": 0.0,
            "nps_answers": 1,
        },
    ]


def test_satisfaction_by_qc_inspector_averages_the_qc_question(month):
    [row] = selectors.satisfaction_by_staff("qc_inspector", *FEB)
    assert (row["name"], row["answers"], row["satisfied_share"], row["average_rating"], row["nps"]) == (
        "Qian",
        2,
        100.0,
        4.5,
        100.0,
    )
    with pytest.raises(ValueError):
        selectors.satisfaction_by_staff("sales", *FEB)


def test_the_trend_gives_each_staff_member_every_month(month):
    with time_machine.travel(datetime(2026, 3, 15, 4, 0, tzinfo=UTC), tick=False):
        trend = selectors.satisfaction_trend("designer", months=3)
    assert trend["months"] == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    by_name = {row["name"]: [(p["answers"], p["satisfied_share"]) for p in row["points"]] for row in trend["rows"]}
    assert by_name == {"Li": [(0, None), (3, 66.7), (1, 0.0)], "Wu": [(0, None), (2, 50.0), (0, None)]}


def test_nps_distribution_and_defects_of_the_month(month):
    assert selectors.nps(*FEB) == {"answers": 4, "promoters": 2, "passives": 1, "detractors": 1, "score": 25.0}
    distribution = selectors.satisfaction_distribution(*FEB)
    assert [(level["level"], level["count"], level["share"]) for level in distribution["levels"]] == [
        (5, 2, 40.0),
        (4, 1, 20.0),
        (3, 1, 20.0),
        (2, 1, 20.0),
        (1, 0, 0.0),
    ]
    assert (distribution["total"], distribution["satisfied"], distribution["satisfied_share"]) == (5, 3, 60.0)
    assert [(t["trade"], t["count"], t["kinds"]) for t in selectors.defects_by_trade(*FEB)] == [
        ("painting", 3, {"crack": 2, "uneven": 1}),
        ("plumbing_electrical", 1, {"leak": 1}),
    ]


def test_an_empty_period_has_no_rates_rather_than_zero(firm):
    assert selectors.callback_stats(*FEB)["completion_rate"] is None
    assert selectors.nps(*FEB)["score"] is None
    assert selectors.satisfaction_distribution(*FEB)["satisfied_share"] is None


def test_reports_answer_in_queries_that_do_not_grow_with_the_data(month):
    def count():
        sizes = []
        for report in (
            lambda: selectors.callback_stats(*FEB),
            lambda: selectors.satisfaction_by_staff("designer", *FEB),
            lambda: selectors.satisfaction_trend("designer"),
            lambda: selectors.nps(*FEB),
            lambda: selectors.defects_by_trade(*FEB),
            lambda: selectors.satisfaction_distribution(*FEB),
        ):
            with CaptureQueriesContext(connection) as captured:
                report()
            sizes.append(len(captured.captured_queries))
        return sizes

    with time_machine.travel(TODAY, tick=False):
        before = count()
        for n in range(6):
            designer = member(month["li"].memberships.first().tenant, role="designer", name=f"D{n}")
            SurveyDefectFactory(survey=survey(datetime(2026, 2, 3, 2, 0, tzinfo=UTC), overall=4, designer=designer))
        after = count()
    assert before == after == [1, 2, 2, 1, 1, 1]
