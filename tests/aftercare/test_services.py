"""Aftercare services: coverages seeded at handover from the signed quotation, the coverage check when a
repair is reported, the repair lifecycle, the firm's policy and settings."""

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation

from aftercare import selectors
from aftercare.models import AftercareSettings, Area, Coverage, CoverageRule, RepairPhoto, RepairRequest, RepairVisit
from aftercare.services import coverage as coverage_services
from aftercare.services import policy as policy_services
from aftercare.services import repairs as repair_services
from contracts.models import Project
from renocrm.outbox.models import OutboxEvent
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.time import firm_today
from tests.aftercare.conftest import (
    BATHROOM_WATERPROOFING,
    KITCHEN_WATERPROOFING,
    TILES,
    complete_handover,
    handed_over,
    not_a_photo,
    photo,
    signed_worksite,
    staff,
)
from tests.aftercare.factories import CoverageFactory, RepairRequestFactory
from tests.contracts.factories import ProjectFactory
from tests.worksites.factories import WorksiteFactory


def names(project):
    return sorted(Coverage.objects.filter(project=project).values_list("name", flat=True))


def events(event_type):
    return [e.payload for e in OutboxEvent.objects.filter(event_type=event_type).order_by("id")]


def lines(*pairs):
    """A stand-in for the signed quotation: (category, item name) lines."""
    return list(pairs)


def rule(**fields):
    return CoverageRule(name="r", months=12, **fields)


# The firm's policy --------------------------------------------------------------------------------------------


def test_the_default_policy_is_seeded_once_in_the_firms_language(firm_a):
    firm_a.language = "en"
    firm_a.save()
    with tenant_context(firm_a):
        rules = policy_services.coverage_rules_get()
        assert [(r.name, r.area, r.trade, r.months) for r in rules] == [
            ("General works", Area.WHOLE_HOME, "", 24),
            ("Kitchen waterproofing", Area.KITCHEN, "waterproofing", 60),
            ("Bathroom waterproofing", Area.BATHROOM, "waterproofing", 60),
        ]
        assert rules[1].keywords == "防水, waterproof"
        policy_services.coverage_rules_get()
        assert CoverageRule.objects.count() == 3


def test_rules_are_edited_added_and_turned_off_but_never_deleted(firm):
    general, kitchen, bathroom = policy_services.coverage_rules_get()
    rows = [
        {
            "id": kitchen.pk,
            "name": "Kitchen waterproofing",
            "area": "kitchen",
            "trade": "waterproofing",
            "keywords": "防水，waterproof",
            "months": 72,
            "is_active": True,
        },
        {
            "id": general.pk,
            "name": "General works",
            "area": "whole_home",
            "trade": "",
            "keywords": "",
            "months": 24,
            "is_active": True,
        },
        {"name": "Cabinets", "area": "kitchen", "trade": "carpentry", "keywords": "", "months": 36, "is_active": True},
    ]
    policy_services.coverage_rules_save(rows=rows)
    saved = list(CoverageRule.objects.order_by("position"))
    assert [(r.name, r.position, r.months) for r in saved] == [
        ("Kitchen waterproofing", 1, 72),
        ("General works", 2, 24),
        ("Cabinets", 3, 36),
        ("Bathroom waterproofing", 4, 60),
    ]
    assert saved[0].keywords == "防水, waterproof"
    policy_services.coverage_rules_save(rows=[{**rows[0], "is_active": False}])
    assert not CoverageRule.objects.get(pk=kitchen.pk).is_active and CoverageRule.objects.count() == 4
    for bad in ({**rows[2], "name": " "}, {**rows[2], "months": 0}, {**rows[2], "id": 999999}):
        with pytest.raises(ValidationError):
            policy_services.coverage_rules_save(rows=[bad])
    assert CoverageRule.objects.count() == 4


# Which rules a quotation calls for -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("the_rule", "quotation", "applies"),
    [
        # neither trade nor keywords: always
        (rule(area=Area.WHOLE_HOME), lines(), True),
        # the trade, in the rule's area
        (rule(area=Area.KITCHEN, trade="waterproofing"), lines(("waterproofing", "厨房防水")), True),
        # the trade, in another area only
        (rule(area=Area.KITCHEN, trade="waterproofing"), lines(("waterproofing", "卫生间防水")), False),
        # the trade on a line naming no room counts for every area
        (rule(area=Area.BATHROOM, trade="waterproofing"), lines(("waterproofing", "JS防水涂料")), True),
        # a keyword on a line of another trade
        (
            rule(area=Area.BATHROOM, trade="waterproofing", keywords="防水, waterproof"),
            lines(("masonry", "Bathroom waterproof membrane")),
            True,
        ),
        # 厨卫 names the kitchen and the bathroom
        (rule(area=Area.BATHROOM, keywords="防水"), lines(("masonry", "厨卫防水")), True),
        # neither trade nor keyword
        (rule(area=Area.KITCHEN, trade="waterproofing", keywords="防水"), lines(("masonry", "厨房墙砖")), False),
        # a whole-home rule ignores the area test
        (rule(area=Area.WHOLE_HOME, trade="carpentry"), lines(("carpentry", "卧室衣柜")), True),
    ],
)
def test_rule_applies(the_rule, quotation, applies):
    assert policy_services.rule_applies(the_rule, quotation) is applies


def test_handover_starts_the_coverages_the_signed_quotation_calls_for(firm):
    project = handed_over(firm, items=[TILES, KITCHEN_WATERPROOFING])
    today = firm_today()
    coverages = {c.name: c for c in Coverage.objects.filter(project=project)}
    assert sorted(coverages) == ["General works", "Kitchen waterproofing"]
    assert coverages["General works"].starts_on == today == project.handed_over_on
    assert coverages["Kitchen waterproofing"].ends_on == today.replace(year=today.year + 5)
    assert coverages["Kitchen waterproofing"].trade == "waterproofing"


def test_a_quotation_without_waterproofing_gets_the_general_warranty_only(firm):
    assert names(handed_over(firm, items=[TILES])) == ["General works"]


def test_both_wet_rooms_waterproofed(firm):
    project = handed_over(firm, items=[KITCHEN_WATERPROOFING, BATHROOM_WATERPROOFING])
    assert names(project) == ["Bathroom waterproofing", "General works", "Kitchen waterproofing"]


def test_a_turned_off_rule_starts_nothing(firm):
    policy_services.coverage_rules_get()
    CoverageRule.objects.filter(name="General works").update(is_active=False)
    assert names(handed_over(firm, items=[TILES])) == []


@pytest.mark.parametrize(
    ("handed", "months", "ends"),
    [
        (date(2027, 1, 31), 24, date(2029, 1, 31)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
    ],
)
def test_warranty_months_are_calendar_months_from_the_handover(firm, handed, months, ends):
    policy_services.coverage_rules_save(rows=[{"name": "General works", "area": "whole_home", "months": months}])
    CoverageRule.objects.exclude(months=months).update(is_active=False)
    project = ProjectFactory()
    coverage_services.coverages_start(project=project, contract=None, handed_over_on=handed)
    [coverage] = Coverage.objects.filter(project=project)
    assert (coverage.starts_on, coverage.ends_on) == (handed, ends)


def test_starting_coverages_twice_creates_nothing_twice(firm):
    project = handed_over(firm, items=[KITCHEN_WATERPROOFING])
    event = SimpleNamespace(
        payload={"project_id": project.pk, "contract_id": None, "handed_over_on": project.handed_over_on.isoformat()}
    )
    coverage_services.on_project_handed_over(event)
    assert names(project) == ["General works", "Kitchen waterproofing"]


def test_a_handover_rolled_back_leaves_no_coverages(firm):
    worksite = signed_worksite([KITCHEN_WATERPROOFING])
    by = staff(firm, role="project_manager")

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        complete_handover(worksite, by)
        assert Coverage.objects.filter(project=worksite.project).count() == 2  # made inside the handover
        raise Abort
    assert not Coverage.objects.filter(project=worksite.project).exists()
    assert Project.objects.get(pk=worksite.project_id).handed_over_on is None


def test_a_failing_coverage_seed_refuses_the_handover(firm, monkeypatch):
    worksite = signed_worksite([TILES])
    by = staff(firm, role="project_manager")

    def broken(**kwargs):
        raise ValidationError("policy broken")

    monkeypatch.setattr(coverage_services, "coverages_start", broken)
    with pytest.raises(ValidationError):
        complete_handover(worksite, by)
    assert Project.objects.get(pk=worksite.project_id).handed_over_on is None


def test_staff_add_and_edit_a_coverage(firm):
    project = ProjectFactory()
    coverage = coverage_services.coverage_create(
        project=project, name="Extended boiler warranty", area="kitchen", starts_on=date(2027, 1, 31), months=36
    )
    assert coverage.ends_on == date(2030, 1, 31) and coverage.rule is None
    coverage_services.coverage_update(coverage=coverage, ends_on=date(2031, 1, 31), notes="Bought with the boiler")
    coverage.refresh_from_db()
    assert (coverage.ends_on, coverage.notes) == (date(2031, 1, 31), "Bought with the boiler")
    with pytest.raises(ValidationError) as refused:
        coverage_services.coverage_update(coverage=coverage, ends_on=date(2026, 1, 1))
    assert "ends_on" in refused.value.message_dict
    with pytest.raises(ValidationError):
        coverage_services.coverage_create(project=project, name="", area="kitchen", starts_on=None, ends_on=None)
    assert Coverage.objects.filter(project=project).count() == 1


# The coverage check --------------------------------------------------------------------------------------------


@pytest.fixture
def covered_project(firm):
    """General works until next year, kitchen waterproofing for five years; handed over 3 years ago."""
    project = ProjectFactory()
    today = firm_today()
    CoverageFactory(
        project=project,
        name="General works",
        area="whole_home",
        starts_on=today - timedelta(days=1000),
        ends_on=today - timedelta(days=270),
    )
    CoverageFactory(
        project=project,
        name="Kitchen waterproofing",
        area="kitchen",
        trade="waterproofing",
        starts_on=today - timedelta(days=1000),
        ends_on=today + timedelta(days=800),
    )
    return project


def test_a_repair_in_the_covered_area_and_trade_is_under_warranty(covered_project):
    repair = repair_services.repair_request_open(
        project=covered_project, area="kitchen", trade="waterproofing", description="Damp under the sink"
    )
    assert repair.is_covered and repair.coverage.name == "Kitchen waterproofing"
    assert not repair.is_chargeable


def test_a_repair_out_of_warranty_is_recorded_and_chargeable(covered_project):
    repair = repair_services.repair_request_open(project=covered_project, area="bedroom", description="Door sticks")
    assert not repair.is_covered and repair.coverage is None and repair.is_chargeable
    assert RepairRequest.objects.filter(pk=repair.pk).exists()
    other_trade = repair_services.repair_request_open(
        project=covered_project, area="kitchen", trade="painting", description="Paint peeling"
    )
    assert not other_trade.is_covered


def test_the_most_specific_coverage_wins(firm):
    project = ProjectFactory()
    today = firm_today()
    start = today - timedelta(days=10)
    CoverageFactory(
        project=project, name="Whole home", area="whole_home", starts_on=start, ends_on=today + timedelta(days=900)
    )
    bathroom = CoverageFactory(
        project=project, name="Bathroom", area="bathroom", starts_on=start, ends_on=today + timedelta(days=300)
    )
    bathroom_wp = CoverageFactory(
        project=project,
        name="Bathroom WP",
        area="bathroom",
        trade="waterproofing",
        starts_on=start,
        ends_on=today + timedelta(days=200),
    )
    assert selectors.coverage_for(project, "bathroom", "waterproofing") == bathroom_wp
    assert selectors.coverage_for(project, "bathroom", "painting") == bathroom
    assert selectors.coverage_for(project, "balcony").name == "Whole home"
    assert selectors.coverage_for(project, "bathroom", on=today + timedelta(days=250)) == bathroom
    assert selectors.coverage_for(project, "bathroom", on=today + timedelta(days=1000)) is None


def test_opening_a_repair_sets_deadlines_assignee_photos_and_the_event(firm, media_root):
    agent = staff(firm)
    worksite = WorksiteFactory(customer_service=agent)
    AftercareSettings.objects.create(repair_response_hours=4, repair_on_site_hours=48)
    reported = timezone.now() - timedelta(hours=1)
    repair = repair_services.repair_request_open(
        project=worksite.project,
        area="bathroom",
        description="  Leak  ",
        reported_at=reported,
        photos=[photo("a.jpg"), photo("b.jpg")],
        source=RepairRequest.Source.PORTAL,
    )
    assert repair.description == "Leak" and repair.assigned_to == agent
    assert (repair.respond_by, repair.on_site_by) == (reported + timedelta(hours=4), reported + timedelta(hours=48))
    assert RepairPhoto.objects.filter(repair=repair).count() == 2
    assert events("repair.opened") == [
        {
            "id": repair.pk,
            "project_id": worksite.project_id,
            "customer_id": worksite.project.customer_id,
            "area": "bathroom",
            "trade": "",
            "category": "",
            "is_covered": False,
            "source": "portal",
        }
    ]


def test_a_project_without_a_customer_service_agent_opens_unassigned(firm):
    repair = repair_services.repair_request_open(project=ProjectFactory(), area="kitchen", description="Tap drips")
    assert repair.assigned_to is None


def test_one_bad_photo_refuses_the_request_and_stores_nothing(firm, media_root):
    project = ProjectFactory()
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        repair_services.repair_request_open(
            project=project, area="kitchen", description="Leak", photos=[photo(), not_a_photo("fake.jpg")]
        )
    assert "fake.jpg" in " ".join(refused.value.message_dict["photos"])
    assert not RepairRequest.objects.exists() and not RepairPhoto.objects.exists()
    assert not [p for p in media_root.rglob("*") if p.is_file()]


def test_a_repair_needs_a_description_and_an_area(firm):
    with pytest.raises(ValidationError) as refused:
        repair_services.repair_request_open(project=ProjectFactory(), area="attic", description=" ")
    assert set(refused.value.message_dict) == {"area", "description"}
    assert not RepairRequest.objects.exists()


# The repair lifecycle ------------------------------------------------------------------------------------------


@pytest.fixture
def repair(firm):
    return repair_services.repair_request_open(project=ProjectFactory(), area="kitchen", description="Tap drips")


def test_the_full_lifecycle(firm, repair):
    agent = staff(firm)
    repair_services.repair_request_assign(repair=repair, agent=agent)
    repair_services.repair_request_respond(repair=repair, note="Visit on Tuesday", by=agent)
    repair.refresh_from_db()
    assert repair.status == RepairRequest.Status.RESPONDED and repair.responded_at is not None
    repair_services.repair_visit_log(repair=repair, kind=RepairVisit.Kind.VISIT, note="Replaced the washer", by=agent)
    repair.refresh_from_db()
    assert repair.status == RepairRequest.Status.ON_SITE and repair.on_site_at is not None
    first_on_site = repair.on_site_at
    repair_services.repair_visit_log(repair=repair, kind=RepairVisit.Kind.VISIT, note="Checked again", by=agent)
    repair.refresh_from_db()
    assert repair.on_site_at == first_on_site
    repair_services.repair_request_resolve(repair=repair, resolution="Washer replaced", charge=Decimal("80"), by=agent)
    repair_services.repair_request_confirm(repair=repair, satisfied=True, comment="Thanks")
    repair.refresh_from_db()
    assert repair.status == RepairRequest.Status.CONFIRMED and repair.homeowner_satisfied
    assert repair.charge == Decimal("80.00")
    assert [v.kind for v in repair.visits.order_by("at", "id")][:3] == ["note", "call", "visit"]
    assert events("repair.resolved") == [{"id": repair.pk, "project_id": repair.project_id, "is_covered": False}]
    for event_type in ("repair.assigned", "repair.responded", "repair.visit_logged", "repair.confirmed"):
        assert events(event_type), event_type


def test_an_unsatisfied_homeowner_sends_the_repair_back_to_open(firm, repair):
    repair_services.repair_request_resolve(repair=repair, resolution="Tightened")
    with pytest.raises(ValidationError):
        repair_services.repair_request_confirm(repair=repair, satisfied=False, comment="")
    repair_services.repair_request_confirm(repair=repair, satisfied=False, comment="Still drips")
    repair.refresh_from_db()
    assert repair.status == RepairRequest.Status.OPEN and repair.resolved_at is None
    assert repair.homeowner_satisfied is False
    assert "Still drips" in repair.visits.last().note
    repair_services.repair_request_resolve(repair=repair, resolution="New tap")
    assert RepairRequest.objects.get(pk=repair.pk).status == RepairRequest.Status.RESOLVED


def test_covered_work_cannot_be_charged(firm):
    project = ProjectFactory()
    CoverageFactory(project=project)
    repair = repair_services.repair_request_open(project=project, area="kitchen", description="Crack")
    with translation.override("en"), pytest.raises(ValidationError, match="under warranty"):
        repair_services.repair_request_resolve(repair=repair, resolution="Filled", charge=Decimal("100"))
    repair_services.repair_request_resolve(repair=repair, resolution="Filled", charge=None)
    assert RepairRequest.objects.get(pk=repair.pk).charge is None


def test_invalid_transitions_are_refused_with_a_clear_message(firm, repair):
    with translation.override("en"):
        with pytest.raises(ValidationError, match="Only a resolved repair can be confirmed"):
            repair_services.repair_request_confirm(repair=repair, satisfied=True)
        repair_services.repair_request_cancel(repair=repair, reason="Reported twice")
        with pytest.raises(ValidationError, match="cannot be resolved"):
            repair_services.repair_request_resolve(repair=repair, resolution="x")
        with pytest.raises(ValidationError, match="cannot be answered"):
            repair_services.repair_request_respond(repair=repair, note="x")
        with pytest.raises(ValidationError, match="cannot be cancelled"):
            repair_services.repair_request_cancel(repair=repair, reason="again")
        with pytest.raises(ValidationError):
            repair_services.repair_request_cancel(repair=RepairRequestFactory(), reason="")
    assert RepairRequest.objects.get(pk=repair.pk).status == RepairRequest.Status.CANCELLED


def test_only_an_active_member_of_the_firm_may_be_assigned(firm, firm_b, repair):
    outsider = staff(firm_b)
    with pytest.raises(ValidationError) as refused:
        repair_services.repair_request_assign(repair=repair, agent=outsider)
    assert "agent" in refused.value.message_dict
    assert RepairRequest.objects.get(pk=repair.pk).assigned_to is None


def test_settings_are_checked(firm):
    good = {
        "repair_response_hours": 12,
        "repair_on_site_hours": 48,
        "warranty_reminder_days": [7, 30, 30],
        "birthday_greetings": True,
        "holiday_greetings": False,
        "free_inspection_offer_days": 0,
    }
    saved = policy_services.aftercare_settings_update(**good)
    assert saved.warranty_reminder_days == [30, 7] and not saved.holiday_greetings
    for bad in (
        {"repair_on_site_hours": 6},
        {"warranty_reminder_days": [0]},
        {"warranty_reminder_days": [1, 2, 3, 4, 5, 6]},
    ):
        with pytest.raises(ValidationError):
            policy_services.aftercare_settings_update(**{**good, **bad})
    assert AftercareSettings.objects.get().repair_on_site_hours == 48


def test_a_chinese_firms_default_policy_is_in_chinese(firm_b):
    with tenant_context(firm_b):
        assert [rule.name for rule in policy_services.coverage_rules_get()] == ["一般工程", "厨房防水", "卫生间防水"]
