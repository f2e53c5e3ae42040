"""Aftercare staff pages: the repair list with filters, a repair and its actions, recording a repair, a
project's coverages, the policy and settings, referral rewards and warranties ending. The warranty decision
and triage: test_coverage_decisions.py; warranty cards: test_warranty_cards.py."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aftercare.models import AftercareSettings, CareOptOut, Coverage, CoverageRule, RepairPhoto, RepairRequest
from leads.models import ReferralReward
from renocrm.tenancy.context import require_current_tenant, tenant_context
from renocrm.tenancy.time import firm_today
from tests.aftercare.conftest import not_a_photo, photo, staff
from tests.aftercare.factories import CoverageFactory, RepairRequestFactory
from tests.contracts.factories import ProjectFactory
from tests.factories import MembershipFactory
from tests.leads.factories import ReferralRewardFactory

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def client_en(staff_client):
    staff_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return staff_client


def count_queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    ("url_name", "make"),
    [
        ("aftercare:list", lambda: RepairRequestFactory(assigned_to=staff_of_firm()) and None),
        ("aftercare:referral-rewards", lambda: ReferralRewardFactory() and None),
        ("aftercare:expiring", lambda: CoverageFactory(ends_on=firm_today() + timedelta(days=10)) and None),
    ],
)
def test_list_pages_do_not_grow_in_queries_with_rows(client_en, firm_a, url_name, make):
    url = reverse(url_name)
    with tenant_context(firm_a):
        make()
    few = count_queries(client_en, url)
    with tenant_context(firm_a):
        for _ in range(6):
            make()
    assert count_queries(client_en, url) <= few


def staff_of_firm():
    return staff(require_current_tenant())


def test_project_page_does_not_grow_in_queries_with_repairs(client_en, firm_a):
    with tenant_context(firm_a):
        project = ProjectFactory()
        CoverageFactory(project=project)
        RepairRequestFactory(project=project)
    url = reverse("aftercare:project", args=[project.pk])
    few = count_queries(client_en, url)
    with tenant_context(firm_a):
        for _ in range(5):
            CoverageFactory(project=project)
            RepairRequestFactory(project=project)
            ReferralRewardFactory(referrer=project.customer)
    assert count_queries(client_en, url) <= few


def test_the_list_filters(client_en, firm_a):
    with tenant_context(firm_a):
        mine = RepairRequestFactory(assigned_to=client_en.membership.user, description="Mine")
        covered = RepairRequestFactory(is_covered=True, description="Covered one")
        late = RepairRequestFactory(description="Late one", respond_by=timezone.now() - timedelta(days=3))
        done = RepairRequestFactory(status=RepairRequest.Status.CONFIRMED, description="Done one")

    def listed(**params):
        response = client_en.get(reverse("aftercare:list"), params)
        return {r.pk for r in response.context["repairs"]}

    assert listed() == {mine.pk, covered.pk, late.pk, done.pk}
    assert listed(assigned="me") == {mine.pk}
    assert listed(covered="yes") == {covered.pk}
    assert listed(overdue="on") == {late.pk}
    assert listed(status="open_all") == {mine.pk, covered.pk, late.pk}
    assert listed(q="Late") == {late.pk}
    assert listed(q=f"#{done.pk}") == {done.pk}


def test_recording_a_repair_with_photos(client_en, firm_a):
    with tenant_context(firm_a):
        project = ProjectFactory()
        CoverageFactory(project=project)
    response = client_en.get(reverse("aftercare:repair-new"), {"project": project.pk})
    assert response.status_code == 200 and b'capture="environment"' in response.content
    response = client_en.post(
        reverse("aftercare:repair-new"),
        {
            "project": project.pk,
            "area": "kitchen",
            "description": "Cabinet door fell off",
            "source": "staff",
            "photos": [photo("a.jpg"), photo("b.jpg")],
        },
    )
    with tenant_context(firm_a):
        repair = RepairRequest.objects.get()
        assert repair.is_covered and repair.created_by == client_en.membership.user
        assert RepairPhoto.objects.filter(repair=repair).count() == 2
    assert response.status_code == 302 and response.url == reverse("aftercare:repair", args=[repair.pk])
    page = client_en.get(response.url)
    assert b"Cabinet door fell off" in page.content and b"Under warranty" in page.content


def test_bad_input_shows_field_errors_and_stores_nothing(client_en, firm_a):
    with tenant_context(firm_a):
        project = ProjectFactory()
    response = client_en.post(
        reverse("aftercare:repair-new"),
        {
            "project": project.pk,
            "area": "kitchen",
            "description": "Leak",
            "source": "staff",
            "photos": [photo(), not_a_photo("fake.jpg")],
        },
    )
    assert response.status_code == 200
    assert "fake.jpg" in " ".join(response.context["form"].errors["photos"])
    response = client_en.post(reverse("aftercare:repair-new"), {"project": project.pk, "area": "", "source": "staff"})
    assert set(response.context["form"].errors) == {"area", "description"}
    with tenant_context(firm_a):
        assert not RepairRequest.objects.exists() and not RepairPhoto.objects.exists()


def test_repair_actions_and_refusals(client_en, firm_a):
    with tenant_context(firm_a):
        repair = RepairRequestFactory()
        agent = staff(firm_a)
    post = lambda name, data: client_en.post(reverse(f"aftercare:repair-{name}", args=[repair.pk]), data, follow=True)  # noqa: E731
    post("assign", {"agent": agent.pk})
    post("respond", {"note": "Coming Tuesday"})
    post("visit", {"kind": "visit", "note": "Fixed the hinge"})
    response = post("confirm", {"satisfied": "yes"})  # not resolved yet
    assert "Only a resolved repair can be confirmed" in response.content.decode()
    post("resolve", {"resolution": "Hinge replaced", "charge": "50"})
    post("confirm", {"satisfied": "yes", "comment": "Good"})
    with tenant_context(firm_a):
        repair.refresh_from_db()
        assert (repair.status, repair.assigned_to, repair.charge) == ("confirmed", agent, 50)
        assert repair.responded_at and repair.on_site_at
    response = post("cancel", {"reason": ""})
    assert "Why cancel" in response.content.decode()


def test_a_viewer_without_manage_may_look_but_not_act(client, firm_a):
    designer = MembershipFactory(tenant=firm_a, role="designer").user
    client.force_login(designer)
    with tenant_context(firm_a):
        repair = RepairRequestFactory()
    assert client.get(reverse("aftercare:repair", args=[repair.pk])).status_code == 200
    assert client.post(reverse("aftercare:repair-respond", args=[repair.pk]), {"note": "x"}).status_code == 403
    assert client.post(reverse("aftercare:settings"), {}).status_code == 403


def test_project_page_coverages_and_manual_coverage(client_en, firm_a):
    with tenant_context(firm_a):
        project = ProjectFactory(handed_over_on=firm_today())
        CoverageFactory(project=project, name="General works", ends_on=firm_today() + timedelta(days=10))
    page = client_en.get(reverse("aftercare:project", args=[project.pk]))
    assert b"General works" in page.content and b"Ends in 10 days" in page.content
    url = reverse("aftercare:coverage-new", args=[project.pk])
    bad = client_en.post(url, {"name": "Boiler", "area": "kitchen", "starts_on": "2027-01-31", "ends_on": "2027-01-01"})
    assert "ends_on" in bad.context["form"].errors
    good = client_en.post(
        url, {"name": "Boiler", "area": "kitchen", "starts_on": "2027-01-31", "ends_on": "2030-01-31"}
    )
    assert good.status_code == 302
    with tenant_context(firm_a):
        boiler = Coverage.objects.get(name="Boiler")
    edit = client_en.post(
        reverse("aftercare:coverage-edit", args=[boiler.pk]),
        {"name": "Boiler", "area": "kitchen", "starts_on": "2027-01-31", "ends_on": "2031-01-31"},
    )
    assert edit.status_code == 302
    with tenant_context(firm_a):
        assert Coverage.objects.get(pk=boiler.pk).ends_on.year == 2031


def test_opt_out_and_undo_on_the_customers_page(client_en, firm_a):
    with tenant_context(firm_a):
        project = ProjectFactory()
    back = reverse("aftercare:project", args=[project.pk])
    response = client_en.post(
        reverse("aftercare:opt-out", args=[project.customer_id]), {"reason": "Asked on the phone", "next": back}
    )
    assert response.url == back
    with tenant_context(firm_a):
        assert CareOptOut.objects.get().reason == "Asked on the phone"
    assert b"Opted out" in client_en.get(back).content
    client_en.post(reverse("aftercare:opt-in", args=[project.customer_id]), {"next": back})
    with tenant_context(firm_a):
        assert not CareOptOut.objects.exists()


def test_the_policy_page_saves_and_refuses(client_en, firm_a):
    firm_a.language = "en"  # the default policy is written in the firm's language
    firm_a.save()
    page = client_en.get(reverse("aftercare:rules"))
    formset = page.context["formset"]
    data = {
        "rules-TOTAL_FORMS": "4",
        "rules-INITIAL_FORMS": "3",
        "rules-MIN_NUM_FORMS": "0",
        "rules-MAX_NUM_FORMS": "1000",
    }
    for n, initial in enumerate(formset.initial):
        for key, value in initial.items():
            if key == "is_active":
                if value:
                    data[f"rules-{n}-is_active"] = "on"
            else:
                data[f"rules-{n}-{key}"] = "" if value is None else value
    data.update(
        {
            "rules-0-months": "36",
            "rules-3-name": "Cabinets",
            "rules-3-area": "kitchen",
            "rules-3-trade": "carpentry",
            "rules-3-months": "24",
            "rules-3-is_active": "on",
        }
    )
    assert client_en.post(reverse("aftercare:rules"), data).status_code == 302
    with tenant_context(firm_a):
        assert list(CoverageRule.objects.values_list("name", "months")) == [
            ("General works", 36),
            ("Kitchen waterproofing", 60),
            ("Bathroom waterproofing", 60),
            ("Cabinets", 24),
        ]
    refused = client_en.post(reverse("aftercare:rules"), {**data, "rules-3-months": "0"})
    assert refused.status_code == 200 and refused.context["formset"].errors[3]["months"]


def test_the_settings_page(client_en, firm_a):
    data = {
        "repair_response_hours": "12",
        "repair_on_site_hours": "6",
        "warranty_reminder_days": "30, 7",
        "free_inspection_offer_days": "60",
        "birthday_greetings": "on",
    }
    refused = client_en.post(reverse("aftercare:settings"), data)
    assert "repair_on_site_hours" in refused.context["form"].errors
    bad_days = client_en.post(reverse("aftercare:settings"), {**data, "warranty_reminder_days": "thirty"})
    assert "warranty_reminder_days" in bad_days.context["form"].errors
    assert (
        client_en.post(
            reverse("aftercare:settings"), {**data, "repair_on_site_hours": "48", "warranty_reminder_days": "60，7"}
        ).status_code
        == 302
    )
    with tenant_context(firm_a):
        saved = AftercareSettings.objects.get()
        assert (saved.repair_on_site_hours, saved.warranty_reminder_days, saved.holiday_greetings) == (
            48,
            [60, 7],
            False,
        )


def test_referral_rewards_are_marked_fulfilled(client_en, firm_a):
    with tenant_context(firm_a):
        reward = ReferralRewardFactory()
    page = client_en.get(reverse("aftercare:referral-rewards"), {"status": "pending"})
    assert reward in page.context["rewards"]
    client_en.post(reverse("aftercare:referral-reward-fulfil", args=[reward.pk]))
    with tenant_context(firm_a):
        assert ReferralReward.objects.get(pk=reward.pk).status == ReferralReward.Status.FULFILLED
    assert reward not in client_en.get(reverse("aftercare:referral-rewards"), {"status": "pending"}).context["rewards"]


def test_warranties_ending_within_a_period(client_en, firm_a):
    with tenant_context(firm_a):
        today = firm_today()
        soon = CoverageFactory(ends_on=today + timedelta(days=20))
        later = CoverageFactory(ends_on=today + timedelta(days=80))
        CoverageFactory(ends_on=today + timedelta(days=200))
        CoverageFactory(starts_on=today - timedelta(days=800), ends_on=today - timedelta(days=1))
    assert [c.pk for c in client_en.get(reverse("aftercare:expiring")).context["coverages"]] == [soon.pk]
    response = client_en.get(reverse("aftercare:expiring"), {"within": "90"})
    assert [c.pk for c in response.context["coverages"]] == [soon.pk, later.pk] and response.context["count"] == 2
