"""The survey's QC and crew questions and its material and furniture rows, on the agent's page and on the
homeowner's phone page; the free text of older surveys shown read-only; and the construction callbacks of
the default plan."""

from datetime import date

import pytest
from django.utils import timezone

from callbacks.models import Callback, FeedbackFollowUp, Method, Survey
from callbacks.services import plan, survey_link
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.time import firm_today
from tests.callbacks.conftest import hand_over
from tests.callbacks.factories import CallbackFactory, SurveyFactory
from tests.factories import MembershipFactory
from worksites.models import Phase, PhaseKind
from worksites.services import schedule

pytestmark = pytest.mark.usefixtures("english")

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def open_callback(firm, **fields):
    with tenant_context(firm):
        return CallbackFactory(status=Callback.Status.OPEN, due_on=firm_today(), released_at=timezone.now(), **fields)


@pytest.fixture
def agent(client, firm_a):
    client.force_login(MembershipFactory(tenant=firm_a, role="customer_service").user)
    return client


def test_the_agent_records_crew_and_qc_ratings_and_materials(agent, firm_a):
    callback = open_callback(firm_a)
    page = agent.get(f"/callbacks/{callback.pk}/", **EN).content.decode()
    for part in ('data-testid="q-crew_rating"', 'data-testid="q-qc_rating"', 'data-testid="material-3"'):
        assert part in page
    assert 'name="materials_feedback"' not in page, "material rows replace the free text"
    answers = {
        "contact": "yes",
        "overall": "4",
        "crew_rating": "5",
        "qc_rating": "2",
        "material_item_0": "Wardrobe",
        "material_brand_0": "Oppein",
        "material_satisfaction_0": "1",
        "material_comment_0": "Doors rub",
        "material_item_2": "Floor tiles",
        "material_satisfaction_2": "5",
    }
    assert agent.post(f"/callbacks/{callback.pk}/", answers).status_code == 302
    with tenant_context(firm_a):
        survey = Survey.objects.get(callback=callback)
        assert (survey.crew_rating, survey.qc_rating) == (5, 2)
        assert [(m.item, m.brand, m.satisfaction, m.comment) for m in survey.materials.all()] == [
            ("Wardrobe", "Oppein", 1, "Doors rub"),
            ("Floor tiles", "", 5, ""),
        ]
        assert set(FeedbackFollowUp.objects.values_list("department", flat=True)) == {"qc", "construction"}
    answered = agent.get(f"/callbacks/{callback.pk}/", **EN).content.decode()
    assert "Wardrobe · Oppein: Very dissatisfied" in answered and 'data-testid="follow-ups"' in answered


def test_a_half_filled_material_row_is_marked_and_nothing_is_stored(agent, firm_a):
    callback = open_callback(firm_a)
    answers = {
        "contact": "yes",
        "overall": "4",
        "material_brand_0": "Oppein",
        "material_item_1": "Sofa",
        "material_comment_1": "Too soft",
    }
    page = agent.post(f"/callbacks/{callback.pk}/", answers, **EN)
    assert page.status_code == 200
    errors = page.context["form"].errors
    assert {"material_item_0", "material_satisfaction_1"} <= set(errors)
    assert "material_item_1" not in errors and "Too soft" in page.content.decode()
    with tenant_context(firm_a):
        assert not Survey.objects.exists()


def test_an_older_surveys_free_text_is_shown_read_only(agent, firm_a):
    with tenant_context(firm_a):
        older = SurveyFactory(materials_feedback="The tiles in the kitchen are a shade off").callback
        newer = SurveyFactory().callback
    page = agent.get(f"/callbacks/{older.pk}/", **EN).content.decode()
    assert 'data-testid="answer-materials-text"' in page and "a shade off" in page
    assert 'data-testid="answer-materials-text"' not in agent.get(f"/callbacks/{newer.pk}/", **EN).content.decode()


def test_the_homeowner_answers_qc_crew_and_materials_on_the_phone_page(client, firm_a):
    callback = open_callback(firm_a, method=Method.SMS)
    with tenant_context(firm_a):
        url = survey_link.survey_link_url(callback)
    page = client.get(f"{url}?lang=en").content.decode()
    assert 'name="qc_rating"' in page and 'name="crew_rating"' in page and 'name="material_item_0"' in page
    answers = {
        "contact": "yes",
        "overall": "5",
        "qc_rating": "4",
        "crew_rating": "2",
        "material_item_0": "Kitchen cabinets",
        "material_satisfaction_0": "4",
    }
    assert client.post(url, answers).status_code == 302
    with tenant_context(firm_a):
        survey = Survey.objects.get(callback=callback)
        assert (survey.via, survey.qc_rating, survey.crew_rating) == ("sms_link", 4, 2)
        assert [m.item for m in survey.materials.all()] == ["Kitchen cabinets"]
        [follow_up] = FeedbackFollowUp.objects.all()
        assert (follow_up.department, follow_up.triggers) == (
            "construction",
            [{"question": "crew_rating", "answer": 2}],
        )


# The default plan's construction callbacks -------------------------------------------------------------------


def test_a_new_firm_calls_during_construction_after_plumbing_and_after_carpentry(firm):
    """Finished on Thursday 12 February 2026: the 2nd working day after is Saturday 14 February, a working
    day before the Spring Festival holiday."""
    from tests.worksites.test_handover_services import open_worksite

    worksite = open_worksite()
    Phase.objects.filter(worksite=worksite).update(covers_concealed_works=False, covers_waterproofing=False)
    plumbing = Phase.objects.get(worksite=worksite, kind=PhaseKind.PLUMBING_ELECTRICAL)
    carpentry = Phase.objects.get(worksite=worksite, kind=PhaseKind.CARPENTRY)
    schedule.phase_complete(phase=plumbing, on=date(2026, 2, 12))
    schedule.phase_complete(phase=carpentry, on=date(2026, 2, 13))
    rows = Callback.objects.filter(worksite=worksite).order_by("due_on")
    assert [(c.step.phase_kind, c.due_on, c.method, c.status) for c in rows] == [
        ("plumbing_electrical", date(2026, 2, 14), "phone", "scheduled"),
        ("carpentry", date(2026, 2, 24), "phone", "scheduled"),
    ]


def test_a_handover_with_the_default_plan_has_both_construction_callbacks_and_five_after(firm):
    worksite = hand_over(on=date(2026, 1, 31))
    anchors = sorted(Callback.objects.filter(worksite=worksite).values_list("step__anchor", flat=True))
    assert anchors == ["handover"] * 5 + ["phase_completed"] * 2


def test_a_firm_that_saved_its_plan_keeps_it(firm):
    plan.plan_save(rows=[{"name": "Only call", "anchor": "handover", "offset": 1, "unit": "months"}])
    assert [(s.name, s.is_active) for s in plan.plan_steps() if s.is_active] == [("Only call", True)]
    worksite = hand_over(on=date(2026, 1, 31))
    assert list(Callback.objects.filter(worksite=worksite).values_list("name", flat=True)) == ["Only call"]
