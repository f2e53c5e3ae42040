"""The worksite pages through the Django test client."""

from datetime import date

import pytest

from contracts.models import Instalment
from renocrm.tenancy.context import tenant_context
from tests.contracts.test_services import PAINT, TILES, WIRING, signed_contract
from tests.factories import MembershipFactory
from worksites.models import PhaseKind, PhaseTemplate, TechnicalHandover
from worksites.services import schedule as services

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def foreman(client, firm_a):
    membership = MembershipFactory(tenant=firm_a, role="project_manager")
    client.force_login(membership.user)
    client.user = membership.user
    return client


def open_worksite(**kwargs):
    return services.worksite_open(contract=signed_contract(**kwargs))


def test_list_and_detail_open_for_every_role_and_actions_need_manage(client, foreman, firm_a):
    with tenant_context(firm_a):
        worksite = open_worksite()
        phase = worksite.phases.get(kind=PhaseKind.DEMOLITION)
    assert foreman.get("/worksites/").status_code == 200
    page = foreman.get(f"/worksites/{worksite.pk}/")
    assert page.status_code == 200 and 'data-testid="timeline"' in page.content.decode()
    client.force_login(MembershipFactory(tenant=firm_a, role="customer_service").user)
    assert client.get(f"/worksites/{worksite.pk}/").status_code == 200
    assert client.post(f"/worksites/phases/{phase.pk}/start/", {"on": "2026-12-02"}).status_code == 403


def test_foreman_starts_finishes_and_records_sign_off(foreman, firm_a):
    schedule = [
        {"kind": "deposit", "amount": "5000.00", "trigger": "on_signing", "due_on": date(2026, 11, 24)},
        {"kind": "midterm", "amount": "5616.63", "trigger": "phase_acceptance", "trigger_phase": "waterproofing_test"},
    ]
    with tenant_context(firm_a):
        worksite = open_worksite(amount_items=(TILES, WIRING, PAINT), instalments=schedule)
        phase = worksite.phases.get(kind=PhaseKind.WATERPROOFING_TEST)
    foreman.post(f"/worksites/phases/{phase.pk}/start/", {"on": "2026-12-20"})
    refused = foreman.post(
        f"/worksites/phases/{phase.pk}/complete/", {"on": "2026-12-19"}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "before it started" in " ".join(str(m) for m in refused.context["messages"])
    foreman.post(f"/worksites/phases/{phase.pk}/complete/", {"on": "2026-12-22"})
    foreman.post(f"/worksites/phases/{phase.pk}/accept/", {"name": "王芳"})
    with tenant_context(firm_a):
        phase.refresh_from_db()
        assert (phase.status, phase.accepted_name, phase.actual_end) == ("accepted", "王芳", date(2026, 12, 22))
        assert Instalment.objects.get(kind="midterm").due_on is not None


def test_crew_and_technical_handover_forms(foreman, firm_a, firm_b):
    with tenant_context(firm_a):
        worksite = open_worksite()
    pm = MembershipFactory(tenant=firm_a, role="project_manager").user
    outsider = MembershipFactory(tenant=firm_b, role="project_manager").user
    bad = foreman.post(f"/worksites/{worksite.pk}/crew/", {"project_manager": outsider.pk})
    assert bad.status_code == 200 and bad.context["form"].errors["project_manager"]
    assert foreman.post(f"/worksites/{worksite.pk}/crew/", {"project_manager": pm.pk}).status_code == 302
    missing = foreman.post(f"/worksites/{worksite.pk}/technical-handover/", {"held_on": "2026-12-01"})
    assert missing.context["form"].errors["existing_facilities"]
    foreman.post(
        f"/worksites/{worksite.pk}/technical-handover/",
        {"held_on": "2026-12-01", "existing_facilities": "卫生间墙面空鼓", "homeowner_present": "on"},
    )
    with tenant_context(firm_a):
        worksite.refresh_from_db()
        handover = TechnicalHandover.objects.get()
        assert worksite.project_manager == pm
        assert (handover.homeowner_present, handover.designer_present) == (True, False)
    assert "卫生间墙面空鼓" in foreman.get(f"/worksites/{worksite.pk}/").content.decode()


def test_template_is_edited_by_the_admin_only(client, foreman, firm_a):
    assert foreman.get("/worksites/template/").status_code == 200
    post = {
        "phases-TOTAL_FORMS": "2",
        "phases-INITIAL_FORMS": "0",
        "phases-0-kind": "demolition",
        "phases-0-name": "拆改",
        "phases-0-duration_days": "4",
        "phases-1-kind": "painting",
        "phases-1-name": "油漆",
        "phases-1-duration_days": "0",
    }
    assert foreman.post("/worksites/template/", post).status_code == 403
    client.force_login(MembershipFactory(tenant=firm_a, role="admin").user)
    bad = client.post("/worksites/template/", post)
    assert bad.context["formset"].forms[1].errors["duration_days"]
    emptied = {**post, "phases-TOTAL_FORMS": "0"}
    refused = client.post("/worksites/template/", emptied, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 200
    assert refused.context["formset"].non_form_errors() == ["A schedule needs at least one phase."]
    post["phases-1-duration_days"] = "6"
    assert client.post("/worksites/template/", post).status_code == 302
    with tenant_context(firm_a):
        assert [(t.name, t.duration_days) for t in PhaseTemplate.objects.all()] == [("拆改", 4), ("油漆", 6)]


def get_with_one_then_six_worksites(client, path, firm, django_assert_max_num_queries, **headers):
    """GET ``path`` with one worksite (its first phase done), then with five more: the second GET may not
    take more queries than the first. Returns the first worksite and the second answer."""
    with tenant_context(firm):
        first = open_worksite(number="HT-0")
        services.phase_complete(phase=first.phases.get(position=1), on=date(2026, 12, 1))
    with django_assert_max_num_queries(30) as counted:
        client.get(path)
    with tenant_context(firm):
        for n in range(1, 6):
            open_worksite(number=f"HT-{n}")
    with django_assert_max_num_queries(len(counted.captured_queries)):
        page = client.get(path, **headers)
    return first, page


def test_list_filters_by_current_phase_and_keeps_its_query_count(foreman, firm_a, django_assert_max_num_queries):
    first, page = get_with_one_then_six_worksites(foreman, "/worksites/", firm_a, django_assert_max_num_queries)
    assert len(page.context["worksites"]) == 6
    filtered = foreman.get("/worksites/", {"phase": "demolition"}).context["worksites"]
    assert [w.pk for w in filtered] == [first.pk]
    assert filtered[0].current_kind == PhaseKind.DEMOLITION


def test_board_puts_each_worksite_in_its_current_phase_column_with_constant_queries(
    foreman, firm_a, django_assert_max_num_queries
):
    first, page = get_with_one_then_six_worksites(
        foreman, "/worksites/board/", firm_a, django_assert_max_num_queries, HTTP_ACCEPT_LANGUAGE="en"
    )
    with tenant_context(firm_a):
        name = first.project.name
    columns = {column.kind: column for column in page.context["columns"]}
    assert [column.kind for column in page.context["columns"]][:2] == ["technical_handover", "demolition"]
    assert [w.pk for w in columns["demolition"].worksites] == [first.pk]
    assert columns["technical_handover"].count == 5
    assert name in page.content.decode()
    assert foreman.get("/worksites/board/?mine=1").context["columns"][0].count == 0
