"""Feedback follow-ups through the services: which answers open one for which department's head, the deadline
in working days, the notices (each once), closing with the outcome and who may close, and the overdue sweep."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from callbacks.models import Callback, FeedbackFollowUp, Survey
from callbacks.services import follow_ups, plan, surveys
from renocrm.outbox.models import Notification, OutboxEvent
from tests.callbacks.conftest import member
from tests.callbacks.factories import CallbackFactory

# Wednesday 30 September 2026, 12:00 in Shanghai: 1–8 October is the National Day holiday and Saturday
# 10 October a working day, so the 3rd working day after is that Saturday.
SEP_30 = datetime(2026, 9, 30, 4, 0, tzinfo=UTC)
# Friday 6 March 2026, 12:00 in Shanghai: the 3rd working day after is Wednesday 11 March.
MAR_6 = datetime(2026, 3, 6, 4, 0, tzinfo=UTC)


@pytest.fixture
def firm_en(firm):
    """Firm A speaking English, so its messages can be read here."""
    firm.language = "en"
    firm.save(update_fields=["language"])
    return firm


@pytest.fixture
def admin(firm):
    """The firm's first admin: heads every department nobody is named for."""
    return member(firm, role="admin", name="Boss Gao", phone="13900000000")


def released(**fields):
    return CallbackFactory(status=Callback.Status.OPEN, released_at=timezone.now(), **fields)


def submit(callback=None, *, by=None, via=Survey.Via.STAFF, **answers):
    return surveys.survey_submit(callback=callback or released(), via=via, by=by, **{"overall": 4, **answers})


def opened(survey):
    return {f.department: f for f in FeedbackFollowUp.objects.filter(survey=survey)}


# What opens a follow-up, and for whom -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "department"),
    [
        ("designer_rating", "design"),
        ("project_manager_rating", "construction"),
        ("crew_rating", "construction"),
        ("quality_plumbing_electrical", "construction"),
        ("quality_masonry", "construction"),
        ("qc_rating", "qc"),
        ("customer_service_rating", "service"),
        ("overall", "service"),
    ],
)
def test_an_answer_of_2_opens_a_follow_up_for_its_department_and_3_does_not(firm, admin, question, department):
    assert opened(submit(**{question: 3})) == {}, "3 of 5 is above the default threshold"
    survey = submit(**{question: 2})
    [follow_up] = opened(survey).values()
    assert follow_up.department == department
    assert follow_up.triggers == [{"question": question, "answer": 2}]
    assert (follow_up.status, follow_up.owner, follow_up.callback_id) == ("open", admin, survey.callback_id)


def test_a_firm_that_follows_up_neutral_answers_sets_its_threshold_to_3(firm, admin):
    plan.callback_settings_save(follow_up_threshold=3)
    assert opened(submit(designer_rating=4)) == {}
    assert set(opened(submit(designer_rating=3))) == {"design"}


def test_the_answers_open_one_follow_up_per_department(firm, admin):
    survey = submit(
        overall=3,
        designer_rating=1,
        crew_rating=2,
        quality_painting=2,
        qc_rating=2,
        customer_service_rating=5,
        expectation="below",
        suggestions="Call before coming round",
    )
    found = opened(survey)
    assert set(found) == {"design", "construction", "qc", "service"}
    assert found["design"].triggers == [{"question": "designer_rating", "answer": 1}]
    assert found["construction"].triggers == [
        {"question": "crew_rating", "answer": 2},
        {"question": "quality_painting", "answer": 2},
    ]
    assert found["service"].triggers == [
        {"question": "expectation", "answer": "below"},
        {"question": "suggestions", "answer": None},
    ]


def test_a_written_suggestion_alone_goes_to_customer_service_and_a_blank_one_does_not(firm, admin):
    assert opened(submit(suggestions="   ")) == {}
    found = opened(submit(overall=5, suggestions="Tidy the stairwell after work"))
    assert list(found) == ["service"] and found["service"].triggers == [{"question": "suggestions", "answer": None}]


def test_a_poorly_rated_material_goes_to_construction(firm, admin):
    survey = submit(
        overall=5,
        materials=[
            {"item": "Wardrobe", "brand": "Oppein", "satisfaction": 2, "comment": "Doors do not close flush"},
            {"item": "Floor tiles", "brand": "Marco Polo", "satisfaction": 3},
        ],
    )
    wardrobe = survey.materials.get(item="Wardrobe")
    assert [(m.item, m.brand, m.satisfaction, m.position) for m in survey.materials.all()] == [
        ("Wardrobe", "Oppein", 2, 1),
        ("Floor tiles", "Marco Polo", 3, 2),
    ]
    [follow_up] = opened(survey).values()
    assert follow_up.department == "construction"
    assert follow_up.triggers == [{"question": "material", "answer": 2, "material": wardrobe.pk}]


@pytest.mark.parametrize(
    ("row", "says"),
    [
        ({"item": "", "satisfaction": 2}, "which material"),
        ({"item": "Sofa", "satisfaction": 6}, "rate it"),
        ({"item": "Sofa"}, "rate it"),
        ({"item": "Sofa" * 30, "satisfaction": 4}, "100 characters"),
    ],
)
def test_a_material_row_that_cannot_be_kept_is_refused_and_nothing_stored(firm_en, admin, row, says):
    callback = released()
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        submit(callback, designer_rating=1, materials=[row])
    assert says in " ".join(refused.value.message_dict["materials"]).lower()
    assert not Survey.objects.exists() and not FeedbackFollowUp.objects.exists()


def test_the_named_head_follows_up_else_the_firms_first_admin(firm, admin):
    later_admin = member(firm, role="admin")
    designer_head = member(firm, role="designer", name="Design Manager Lin")
    gone = member(firm, role="qc")
    plan.callback_settings_save(design_head=designer_head, qc_head=gone)
    gone.memberships.update(is_active=False)
    found = opened(submit(designer_rating=2, qc_rating=2, customer_service_rating=2))
    assert found["design"].owner == designer_head
    assert found["qc"].owner == admin, "a head who left: the first admin"
    assert found["service"].owner == admin != later_admin, "nobody named: the first admin"


def test_a_department_head_must_be_an_active_member_of_the_firm(firm, firm_b, admin):
    outsider = member(firm_b, role="admin")
    with pytest.raises(ValidationError) as refused:
        plan.callback_settings_save(design_head=outsider, qc_head=admin)
    assert "design_head" in refused.value.message_dict
    settings = plan.callback_settings_get()
    assert (settings.design_head, settings.qc_head) == (None, None), "nothing saved"
    for field, value in (("follow_up_threshold", 5), ("follow_up_threshold", 0), ("follow_up_days", 0)):
        with pytest.raises(ValidationError) as bounded:
            plan.callback_settings_save(**{field: value})
        assert field in bounded.value.message_dict


@pytest.mark.parametrize(
    ("moment", "days", "deadline"),
    [(SEP_30, 3, date(2026, 10, 10)), (MAR_6, 3, date(2026, 3, 11)), (MAR_6, 1, date(2026, 3, 9))],
)
def test_the_deadline_counts_the_firms_working_days(firm, admin, moment, days, deadline):
    plan.callback_settings_save(follow_up_days=days)
    with time_machine.travel(moment, tick=False):
        [follow_up] = opened(submit(designer_rating=2)).values()
    assert follow_up.due_on == deadline


def test_the_head_is_told_once_in_the_firms_language_with_the_link(firm_en, admin):
    survey = submit(designer_rating=2, callback=released(worksite__contract__project__lead__customer__name="Wang Fang"))
    follow_up = FeedbackFollowUp.objects.get(survey=survey)
    [message] = Notification.objects.filter(idempotency_key=f"feedback-follow-up:{follow_up.pk}:opened")
    assert (message.recipient, message.channel) == ("13900000000", "sms")
    assert "Wang Fang" in message.body and "Design" in message.body
    assert message.body.endswith(f"/callbacks/follow-ups/{follow_up.pk}/")
    with pytest.raises(ValidationError):
        submit(survey.callback, designer_rating=1)
    assert Notification.objects.filter(idempotency_key__startswith="feedback-follow-up:").count() == 1
    event = OutboxEvent.objects.get(event_type="feedback.follow_up_opened")
    assert event.payload == {
        "id": follow_up.pk,
        "survey_id": survey.pk,
        "callback_id": survey.callback_id,
        "project_id": survey.callback.project_id,
        "department": "design",
        "owner_id": admin.pk,
        "due_on": follow_up.due_on.isoformat(),
        "questions": ["designer_rating"],
    }


def test_a_refused_survey_opens_nothing_and_tells_nobody(firm, admin):
    callback = released()
    with pytest.raises(ValidationError):
        submit(callback, designer_rating=1, repair={"area": "the moon", "description": "Crack"})
    assert not FeedbackFollowUp.objects.exists()
    assert not Notification.objects.filter(idempotency_key__startswith="feedback-follow-up:").exists()
    assert not OutboxEvent.objects.filter(event_type="feedback.follow_up_opened").exists()


# Closing ------------------------------------------------------------------------------------------------------


@pytest.fixture
def agent_survey(firm, admin, agent):
    """A survey the agent took on the phone, rating the designer 2: a design follow-up owned by the admin."""
    return submit(released(assigned_to=agent), by=agent, designer_rating=2)


def test_the_owner_closes_with_the_outcome_and_the_agent_hears_it(firm_en, agent_survey, admin, agent):
    follow_up = FeedbackFollowUp.objects.get(survey=agent_survey)
    with pytest.raises(ValidationError) as blank:
        follow_ups.follow_up_close(follow_up=follow_up, outcome="  ", by=admin)
    assert "outcome" in blank.value.message_dict

    closed = follow_ups.follow_up_close(follow_up=follow_up, outcome="Designer visited; layout redrawn.", by=admin)
    assert (closed.status, closed.closed_by, closed.outcome) == ("closed", admin, "Designer visited; layout redrawn.")
    assert closed.closed_at is not None
    [told] = Notification.objects.filter(idempotency_key=f"feedback-follow-up:{follow_up.pk}:closed")
    assert told.recipient == agent.phone and "Designer visited; layout redrawn." in told.body
    event = OutboxEvent.objects.get(event_type="feedback.follow_up_closed")
    assert (event.payload["id"], event.payload["closed_by_id"], event.payload["late"]) == (
        follow_up.pk,
        admin.pk,
        False,
    )

    with pytest.raises(ValidationError) as again:
        follow_ups.follow_up_close(follow_up=follow_up, outcome="Once more", by=admin)
    assert again.value.code == "closed"
    assert Notification.objects.filter(idempotency_key=f"feedback-follow-up:{follow_up.pk}:closed").count() == 1


def test_only_the_owner_or_a_firm_admin_may_close(firm_en, admin):
    head = member(firm_en, role="designer")
    plan.callback_settings_save(design_head=head)
    follow_up = FeedbackFollowUp.objects.get(survey=submit(designer_rating=2))
    for outsider in (member(firm_en, role="customer_service"), member(firm_en, role="designer")):
        with pytest.raises(ValidationError) as refused:
            follow_ups.follow_up_close(follow_up=follow_up, outcome="Done", by=outsider)
        assert refused.value.code == "not_owner"
    follow_up.refresh_from_db()
    assert follow_up.status == "open"
    assert follow_ups.follow_up_close(follow_up=follow_up, outcome="Covered for the head", by=admin).closed_by == admin


def test_the_homeowners_own_answers_report_back_to_the_callbacks_agent(firm, admin, agent):
    survey = submit(released(assigned_to=agent), via=Survey.Via.SMS_LINK, qc_rating=1)
    follow_up = FeedbackFollowUp.objects.get(survey=survey)
    follow_ups.follow_up_close(follow_up=follow_up, outcome="QC re-inspected the bathroom", by=admin)
    assert (
        Notification.objects.get(idempotency_key=f"feedback-follow-up:{follow_up.pk}:closed").recipient == agent.phone
    )


def test_a_partners_key_closes_without_a_person(firm, agent_survey):
    follow_up = FeedbackFollowUp.objects.get(survey=agent_survey)
    closed = follow_ups.follow_up_close(follow_up=follow_up, outcome="Handled in our ticket system", by=None)
    assert closed.status == "closed" and closed.closed_by is None


# The overdue sweep --------------------------------------------------------------------------------------------


def test_an_overdue_follow_up_is_raised_once_to_its_owner_and_the_first_admin(firm, admin):
    head = member(firm, role="qc", phone="13600000000")
    plan.callback_settings_save(qc_head=head)
    with time_machine.travel(MAR_6, tick=False):
        late = FeedbackFollowUp.objects.get(survey=submit(qc_rating=2))
        done = FeedbackFollowUp.objects.get(survey=submit(qc_rating=1))
        follow_ups.follow_up_close(follow_up=done, outcome="Re-inspected", by=head)
    assert late.due_on == date(2026, 3, 11)

    assert follow_ups.follow_ups_raise_overdue(today=date(2026, 3, 11)) == 0, "due today is not late yet"
    assert follow_ups.follow_ups_raise_overdue(today=date(2026, 3, 12)) == 1
    assert follow_ups.follow_ups_raise_overdue(today=date(2026, 3, 13)) == 0, "raised once"
    late.refresh_from_db()
    assert late.overdue_raised_at is not None
    keys = set(
        Notification.objects.filter(idempotency_key__contains=":overdue:").values_list("recipient", "idempotency_key")
    )
    assert keys == {
        (head.phone, f"feedback-follow-up:{late.pk}:overdue:{head.pk}"),
        (admin.phone, f"feedback-follow-up:{late.pk}:overdue:{admin.pk}"),
    }


# The homeowner's personal data --------------------------------------------------------------------------------


def test_a_homeowners_export_has_their_materials_and_follow_ups_and_erasure_clears_their_words(firm, admin):
    from callbacks import personal_data

    callback = released(worksite__contract__project__lead__customer__name="Wang Fang")
    survey = submit(callback, materials=[{"item": "Sofa", "satisfaction": 1, "comment": "Torn on delivery"}])
    follow_up = FeedbackFollowUp.objects.get(survey=survey)
    follow_ups.follow_up_close(follow_up=follow_up, outcome="Replaced the sofa for Wang Fang", by=admin)
    customer = callback.customer

    exported = personal_data.export(customer)
    assert [(m["item"], m["satisfaction"], m["comment"]) for m in exported["survey_materials"]] == [
        ("Sofa", 1, "Torn on delivery")
    ]
    assert [(f["department"], f["outcome"]) for f in exported["feedback_follow_ups"]] == [
        ("construction", "Replaced the sofa for Wang Fang")
    ]

    personal_data.erase(customer)
    material = survey.materials.get()
    follow_up.refresh_from_db()
    assert (material.item, material.satisfaction, material.comment) == ("Sofa", 1, "")
    assert "Wang Fang" not in follow_up.outcome and follow_up.outcome.startswith("Replaced the sofa")
    assert (follow_up.department, follow_up.status) == ("construction", "closed")
