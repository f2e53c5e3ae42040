"""The homeowner portal's pages through the test client, and the staff page of a worksite's links."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from renocrm.audit.models import AuditEvent
from renocrm.outbox import sms
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.models import Tenant
from tests.factories import MembershipFactory
from tests.worksites.factories import (
    HandoverDocumentFactory,
    HandoverFactory,
    InspectionFactory,
    MaterialArrivalFactory,
    ProblemSolutionFactory,
    ProgressMediaFactory,
    ProgressUpdateFactory,
    SiteProblemFactory,
)
from tests.worksites.test_portal_services import (
    CUSTOMER,
    PROJECT,
    portal_worksite,
    still_clock,  # noqa: F401 — the fixture
)
from worksites.models import Inspection, MaterialArrival, Phase, PortalAction, PortalLink, Signoff, SiteProblem
from worksites.services import portal as services

UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"
IP = "203.0.113.20"


def portal_url(link, page=""):
    return services.portal_link_url(link) + (f"{page}/" if page else "")


@pytest.fixture
def homeowner():
    """A phone with no account."""
    return Client(HTTP_USER_AGENT=UA, REMOTE_ADDR=IP)


@pytest.fixture
def site(firm_a):
    with tenant_context(firm_a):
        worksite = portal_worksite()
        link = services.portal_link_create(worksite=worksite, created_by=None)
    return worksite, link


def body(response):
    return response.content.decode()


def test_home_shows_the_project_what_waits_and_whats_next(homeowner, site, firm_a):
    worksite, link = site
    with tenant_context(firm_a):
        inspection = InspectionFactory(worksite=worksite, kind=Inspection.Kind.CONCEALED_WORKS)
        InspectionFactory(worksite=worksite, kind=Inspection.Kind.QC_PRE_INSPECTION)  # not the homeowner's
        arrival = MaterialArrivalFactory(worksite=worksite)
        problem = SiteProblemFactory(worksite=worksite)
        ProblemSolutionFactory(problem=problem, description="Move the wardrobe 20 cm")
        ProblemSolutionFactory(problem=problem, description="Build around the pillar")
    page = homeowner.get(portal_url(link), HTTP_ACCEPT_LANGUAGE="en")
    html = body(page)
    assert page.status_code == 200 and page["Cache-Control"].count("no-store") == 1
    assert PROJECT in html and CUSTOMER in html and "Firm A" in html and "400-800-1234" in html
    assert 'data-testid="timeline"' in html and "Masonry / tiling" in html
    assert f'data-testid="sign-inspection-{inspection.pk}"' in html
    assert html.count('data-testid="sign-inspection-') == 1
    assert f'data-testid="material-{arrival.pk}"' in html and "Move the wardrobe 20 cm" in html
    assert page.context["home"]["waiting_count"] == 4  # a phase, an inspection, a delivery, a problem
    assert f'value="{CUSTOMER}"' in html  # the name is filled in
    assert "logout" not in html and "main-nav" not in html  # no staff navigation


def test_progress_shows_only_updates_visible_to_the_homeowner(homeowner, site, firm_a):
    worksite, link = site
    with tenant_context(firm_a):
        shown = ProgressMediaFactory(update=ProgressUpdateFactory(worksite=worksite, note="Bathroom tiles laid"))
        ProgressMediaFactory(
            update=ProgressUpdateFactory(worksite=worksite, note="Cracked tile replaced", visible_to_homeowner=False)
        )
    page = homeowner.get(portal_url(link, "progress"))
    html = body(page)
    assert page.status_code == 200
    assert "Bathroom tiles laid" in html and "Cracked tile replaced" not in html
    assert 'data-testid="update-photo"' in html and "/media/" in html
    assert [u.pk for u in page.context["updates"]] == [shown.update_id]
    photo = homeowner.get(re.search(r'<img src="([^"]+)"[^>]*data-testid="update-photo"', html).group(1))
    assert photo.status_code == 200 and photo["Content-Type"] == "image/png"


def test_documents_lists_the_handover_documents(homeowner, site, firm_a):
    worksite, link = site
    assert "appear here at handover" in body(homeowner.get(portal_url(link, "documents") + "?lang=en"))
    with tenant_context(firm_a):
        HandoverDocumentFactory(handover=HandoverFactory(worksite=worksite), title="保修卡 2026")
    page = homeowner.get(portal_url(link, "documents"))
    assert "保修卡 2026" in body(page) and "/media/" in body(page)


@pytest.mark.parametrize("page", ["", "progress", "documents"])
def test_a_bad_link_gets_a_clear_page_and_no_project_data(homeowner, site, firm_a, page):
    worksite, link = site
    with tenant_context(firm_a):
        ProgressUpdateFactory(worksite=worksite, note="Bathroom tiles laid")
    token = services.portal_link_token(link)

    def assert_refused(response, status, reason):
        html = body(response)
        assert response.status_code == status
        assert response.context["problem"] == reason
        for secret in (PROJECT, CUSTOMER, "Bathroom tiles laid", "Firm A"):
            assert secret not in html

    tampered = homeowner.get(f"/portal/{token[:-2]}zz/{page + '/' if page else ''}", HTTP_ACCEPT_LANGUAGE="en")
    assert_refused(tampered, 404, services.INVALID)
    assert "not valid" in body(tampered)
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        expired = homeowner.get(portal_url(link, page), HTTP_ACCEPT_LANGUAGE="en")
    assert_refused(expired, 410, services.EXPIRED)
    assert "expired — ask your designer for a new link" in body(expired)
    with tenant_context(firm_a):
        services.portal_link_revoke(link=link, revoked_by=None)
    assert_refused(homeowner.get(portal_url(link, page)), 410, services.REVOKED)
    with tenant_context(firm_a):
        fresh = services.portal_link_create(worksite=worksite, created_by=None)
    assert homeowner.get(portal_url(fresh, page)).status_code == 200
    firm_a.status = Tenant.Status.SUSPENDED
    firm_a.save()
    assert_refused(homeowner.get(portal_url(fresh, page)), 404, services.UNAVAILABLE)


def test_firm_a_link_never_shows_firm_b_and_other_worksites_ids_are_404(homeowner, site, firm_a, firm_b):
    worksite, link = site
    with tenant_context(firm_b):
        b_site = portal_worksite(project="Firm B villa", customer="李雷")
        b_inspection = InspectionFactory(worksite=b_site)
        ProgressUpdateFactory(worksite=b_site, note="Firm B update")
    with tenant_context(firm_a):
        other_site = portal_worksite(project="Another flat of firm A", customer="赵六", mobile="13900000001")
        other_inspection = InspectionFactory(worksite=other_site)
        other_phase = other_site.phases.get(status=Phase.Status.DONE)
    for page in ("", "progress", "documents"):
        html = body(homeowner.get(portal_url(link, page)))
        for secret in ("Firm B villa", "李雷", "Firm B update", "Another flat of firm A", "赵六"):
            assert secret not in html
    for url, pk in (
        ("inspections/sign/", b_inspection.pk),
        ("inspections/sign/", other_inspection.pk),
        ("phases/accept/", other_phase.pk),
        ("inspections/sign/", "x"),
    ):
        response = homeowner.post(portal_url(link) + url, {"object": pk, "name": CUSTOMER})
        assert response.status_code == 404, (url, pk)
    with tenant_context(firm_a):
        assert not Signoff.objects.exists()
        assert not PortalAction.objects.exclude(action="opened").exists()
        other_phase.refresh_from_db()
        assert other_phase.status == Phase.Status.DONE
    with tenant_context(firm_b):
        assert not Signoff.objects.exists()


def _audited(model, pk, link, since=0):
    """Every audit row written for the record after ``since`` names the link."""
    rows = AuditEvent.objects.filter(table_name=model._meta.db_table, row_id=str(pk), pk__gt=since)
    return rows.exists() and all(row.request_id == f"portal-link:{link.pk}" for row in rows)


def _action(link, action, object_id):
    row = PortalAction.objects.get(link=link, action=action)
    assert (row.object_id, row.ip_address, row.user_agent) == (object_id, IP, UA)
    return row


def test_every_action_is_recorded_with_the_link_ip_and_browser_and_audited_as_the_link(homeowner, site, firm_a):
    worksite, link = site
    with tenant_context(firm_a):
        phase = worksite.phases.get(status=Phase.Status.DONE)
        inspection = InspectionFactory(worksite=worksite)
        accepted, rejected = MaterialArrivalFactory(worksite=worksite), MaterialArrivalFactory(worksite=worksite)
        problem = SiteProblemFactory(worksite=worksite)
        ProblemSolutionFactory(problem=problem)
        chosen = ProblemSolutionFactory(problem=problem, description="Build around the pillar")
        since = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    home = portal_url(link)
    posts = [
        ("phases/accept/", {"object": phase.pk, "name": "王芳 "}),
        ("inspections/sign/", {"object": inspection.pk, "name": "王芳"}),
        ("materials/accept/", {"object": accepted.pk, "name": "王芳"}),
        ("materials/reject/", {"object": rejected.pk, "name": "王芳", "reason": "Wrong colour"}),
        ("problems/choose/", {"object": problem.pk, "name": "王芳", "solution": chosen.pk}),
    ]
    for url, data in posts:
        response = homeowner.post(home + url, data)
        assert response.status_code == 302 and response["Location"] == home + "#waiting", url
    with tenant_context(firm_a):
        phase.refresh_from_db()
        assert (phase.status, phase.accepted_name) == (Phase.Status.ACCEPTED, "王芳")
        _action(link, "phase_accepted", phase.pk)
        assert _audited(Phase, phase.pk, link, since)

        signoff = Signoff.objects.get(inspection=inspection)
        assert (signoff.role, signoff.portal_link_id, signoff.ip_address) == ("homeowner", link.pk, IP)
        _action(link, "inspection_signed", inspection.pk)
        assert _audited(Signoff, signoff.pk, link)

        assert Signoff.objects.get(material_arrival=accepted).portal_link_id == link.pk
        _action(link, "material_signed", accepted.pk)

        rejected.refresh_from_db()
        assert rejected.status == MaterialArrival.Status.REJECTED and "Wrong colour" in rejected.notes
        _action(link, "material_rejected", rejected.pk)
        assert _audited(MaterialArrival, rejected.pk, link, since)

        problem.refresh_from_db()
        assert (problem.status, problem.chosen_solution_id, problem.chosen_via_id) == (
            SiteProblem.Status.CHOSEN,
            chosen.pk,
            link.pk,
        )
        _action(link, "solution_chosen", problem.pk)
        assert _audited(SiteProblem, problem.pk, link, since)
        assert _audited(PortalAction, PortalAction.objects.get(action="solution_chosen").pk, link)
    after = homeowner.get(home + "?lang=en")
    assert after.context["home"]["waiting_count"] == 0 and "Nothing needs your signature" in body(after)


def test_a_refused_action_records_nothing_and_says_why(homeowner, site, firm_a):
    worksite, link = site
    with tenant_context(firm_a):
        inspection = InspectionFactory(worksite=worksite)
        arrival = MaterialArrivalFactory(worksite=worksite)
        problem = SiteProblemFactory(worksite=worksite)
        ProblemSolutionFactory(problem=problem)
        elsewhere = ProblemSolutionFactory(problem=SiteProblemFactory(worksite=worksite))
    home = portal_url(link)
    foreign = {"object": problem.pk, "name": "王芳", "solution": elsewhere.pk}
    assert homeowner.post(home + "problems/choose/", foreign).status_code == 404
    unchosen = homeowner.post(home + "problems/choose/?lang=en", {"object": problem.pk, "name": "王芳"}, follow=True)
    assert [str(m) for m in unchosen.context["messages"]] == ["Choose one of the solutions."]
    homeowner.post(home + "inspections/sign/", {"object": inspection.pk, "name": "王芳"})
    again = homeowner.post(home + "inspections/sign/?lang=en", {"object": inspection.pk, "name": "王芳"}, follow=True)
    assert "already signed" in " ".join(str(m) for m in again.context["messages"])
    no_reason = homeowner.post(home + "materials/reject/", {"object": arrival.pk, "name": "王芳"}, follow=True)
    assert [m.level_tag for m in no_reason.context["messages"]] == ["error"]
    with tenant_context(firm_a):
        assert PortalAction.objects.filter(action="inspection_signed").count() == 1
        assert not PortalAction.objects.filter(action__in=["material_rejected", "solution_chosen"]).exists()
        problem.refresh_from_db()
        assert problem.status == SiteProblem.Status.AWAITING_CHOICE
        arrival.refresh_from_db()
        assert arrival.status == MaterialArrival.Status.AWAITING


def test_the_name_typed_once_is_filled_in_next_time(homeowner, site, firm_a):
    worksite, link = site
    with tenant_context(firm_a):
        phase = worksite.phases.get(status=Phase.Status.DONE)
        InspectionFactory(worksite=worksite)
    homeowner.post(portal_url(link) + "phases/accept/", {"object": phase.pk, "name": "王芳的丈夫 张伟"})
    assert 'value="王芳的丈夫 张伟"' in body(homeowner.get(portal_url(link)))


def test_the_language_switch_shows_english_then_chinese_and_defaults_to_the_firms(homeowner, site, firm_a):
    _, link = site
    default = homeowner.get(portal_url(link), HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="zh-hans">' in body(default) and "工期" in body(default)  # the firm's language
    english = homeowner.get(portal_url(link) + "?lang=en")
    assert '<html lang="en">' in body(english) and "Waiting for you" in body(english) and "Schedule" in body(english)
    assert 'href="?lang=zh-hans"' in body(english)
    # The choice sticks for the next pages.
    assert '<html lang="en">' in body(homeowner.get(portal_url(link, "progress")))
    chinese = homeowner.get(portal_url(link) + "?lang=zh-hans")
    assert '<html lang="zh-hans">' in body(chinese) and "工期" in body(chinese) and "Schedule" not in body(chinese)


def test_the_portal_home_keeps_its_query_count(homeowner, site, firm_a, django_assert_max_num_queries):
    worksite, link = site

    def add_one_of_each(kind=None):
        ProgressMediaFactory(update=ProgressUpdateFactory(worksite=worksite))
        if kind:  # one inspection of a kind waits at a time
            InspectionFactory(worksite=worksite, kind=kind)
        MaterialArrivalFactory(worksite=worksite)
        ProblemSolutionFactory(problem=SiteProblemFactory(worksite=worksite))

    K = Inspection.Kind
    with tenant_context(firm_a):
        add_one_of_each(K.CONCEALED_WORKS)
    homeowner.get(portal_url(link))  # the first opening of the hour writes the trail
    with django_assert_max_num_queries(40) as small:
        homeowner.get(portal_url(link))
    with tenant_context(firm_a):
        for kind in (K.WATERPROOFING_TEST, K.MID_TERM, K.FINAL_ACCEPTANCE, None, None):
            add_one_of_each(kind)
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = homeowner.get(portal_url(link))
    # The phase awaiting sign-off, four inspections, six deliveries and six problems.
    assert page.context["home"]["waiting_count"] == 17


def test_the_progress_page_keeps_its_query_count(homeowner, site, firm_a, django_assert_max_num_queries):
    worksite, link = site
    with tenant_context(firm_a):
        ProgressMediaFactory(update=ProgressUpdateFactory(worksite=worksite))
    homeowner.get(portal_url(link, "progress"))
    with django_assert_max_num_queries(40) as small:
        homeowner.get(portal_url(link, "progress"))
    with tenant_context(firm_a):
        for _ in range(6):
            update = ProgressUpdateFactory(worksite=worksite)
            ProgressMediaFactory(update=update)
            ProgressMediaFactory(update=update)
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = homeowner.get(portal_url(link, "progress"))
    assert len(page.context["updates"]) == 7


def test_the_documents_page_keeps_its_query_count(homeowner, site, firm_a, django_assert_max_num_queries):
    worksite, link = site
    with tenant_context(firm_a):
        handover = HandoverFactory(worksite=worksite)
        HandoverDocumentFactory(handover=handover)
    homeowner.get(portal_url(link, "documents"))
    with django_assert_max_num_queries(40) as small:
        homeowner.get(portal_url(link, "documents"))
    with tenant_context(firm_a):
        for _ in range(5):
            HandoverDocumentFactory(handover=handover)
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = homeowner.get(portal_url(link, "documents"))
    assert len(page.context["documents"]) == 6


# Staff ----------------------------------------------------------------------------------------------------------


@pytest.fixture
def designer(client, firm_a):
    client.force_login(MembershipFactory(tenant=firm_a, role="designer").user)
    return client


@pytest.mark.usefixtures("english", "still_clock")
def test_staff_create_and_send_by_sms_then_revoke_and_the_link_stops_at_once(
    designer, homeowner, site, firm_a, django_capture_on_commit_callbacks
):
    worksite, _ = site
    sms.outbox.clear()
    page = designer.get(f"/worksites/{worksite.pk}/portal-links/")
    assert page.status_code == 200 and page.context["form"]["recipient"].value() == "13800138000"
    with django_capture_on_commit_callbacks(execute=True):
        created = designer.post(
            f"/worksites/{worksite.pk}/portal-links/", {"channel": "sms", "recipient": "13800138000", "days": "30"}
        )
    assert created.status_code == 302
    with tenant_context(firm_a):
        link = PortalLink.objects.latest("id")
        assert (link.sent_to, link.created_by_id) == ("13800138000", page.wsgi_request.user.pk)
    [message] = sms.outbox
    assert message.recipient == "13800138000" and f"http://testserver{portal_url(link)}" in message.body
    listing = body(designer.get(f"/worksites/{worksite.pk}/portal-links/"))
    assert f"http://testserver{portal_url(link)}" in listing and "13800138000" in listing

    assert homeowner.get(portal_url(link)).status_code == 200
    assert "Opened the portal" in body(
        designer.get(f"/worksites/{worksite.pk}/portal-links/", HTTP_ACCEPT_LANGUAGE="en")
    )
    assert designer.post(f"/worksites/portal-links/{link.pk}/revoke/").status_code == 302
    assert homeowner.get(portal_url(link)).status_code == 410
    with tenant_context(firm_a):
        link.refresh_from_db()
        assert link.revoked_at is not None and link.revoked_by_id == page.wsgi_request.user.pk
    assert f"http://testserver{portal_url(link)}" not in body(designer.get(f"/worksites/{worksite.pk}/portal-links/"))


def test_staff_get_form_errors_and_only_managers_create_or_revoke(client, designer, site, firm_a):
    worksite, link = site
    bad = designer.post(f"/worksites/{worksite.pk}/portal-links/", {"channel": "sms", "recipient": "555", "days": "30"})
    assert bad.status_code == 200 and bad.context["form"].errors["recipient"]
    copy_only = designer.post(f"/worksites/{worksite.pk}/portal-links/", {"channel": "", "days": "10"})
    assert copy_only.status_code == 302
    client.force_login(MembershipFactory(tenant=firm_a, role="customer_service").user)
    page = client.get(f"/worksites/{worksite.pk}/portal-links/")
    assert page.status_code == 200 and "portal-link-form" not in body(page)
    assert client.post(f"/worksites/{worksite.pk}/portal-links/", {"channel": "", "days": "10"}).status_code == 403
    assert client.post(f"/worksites/portal-links/{link.pk}/revoke/").status_code == 403
    with tenant_context(firm_a):
        assert PortalLink.objects.count() == 2 and PortalLink.objects.filter(revoked_at__isnull=True).count() == 2


def test_staff_without_contact_rights_see_a_masked_recipient(client, site, firm_a):
    worksite, link = site
    with tenant_context(firm_a):
        PortalLink.objects.filter(pk=link.pk).update(sent_to="13800138000")
    client.force_login(MembershipFactory(tenant=firm_a, role="qc").user)
    page = client.get(f"/worksites/{worksite.pk}/portal-links/")
    assert "13800138000" not in body(page) and "138****8000" in body(page)
    assert page.context["form"]["recipient"].value() == ""


def test_the_staff_page_keeps_its_query_count(designer, homeowner, site, firm_a, django_assert_max_num_queries):
    worksite, link = site
    homeowner.get(portal_url(link))
    with django_assert_max_num_queries(40) as small:
        designer.get(f"/worksites/{worksite.pk}/portal-links/")
    with tenant_context(firm_a):
        for _ in range(5):
            extra = services.portal_link_create(worksite=worksite, created_by=None)
            services.portal_action_record(link=extra, action="opened", ip_address=IP, user_agent=UA)
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = designer.get(f"/worksites/{worksite.pk}/portal-links/")
    assert len(page.context["links"]) == 6 and len(page.context["actions"]) == 6
