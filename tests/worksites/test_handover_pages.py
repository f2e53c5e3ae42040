"""The handover pages through the Django test client."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.time import firm_today
from tests.factories import MembershipFactory
from tests.ui.conftest import browser  # noqa: F401  (the phone test's chromium)
from tests.worksites.test_handover_services import (
    PDF_BYTES,
    add_required_documents,
    fail_check,
    open_worksite,
    pass_all,
    pdf,
    stored_files,
)
from worksites.models import AcceptanceItem, AcceptanceItemTemplate, Handover, HandoverDocument, RectificationItem
from worksites.services import handover as services

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def foreman(client, firm_a):
    membership = MembershipFactory(tenant=firm_a, role="project_manager")
    client.force_login(membership.user)
    client.user = membership.user
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def worksite(firm_a):
    with tenant_context(firm_a):
        return open_worksite()


@pytest.fixture
def handover(firm_a, worksite, foreman):
    with tenant_context(firm_a):
        return services.handover_start(worksite=worksite, started_by=foreman.user)


def local_today(firm):
    with tenant_context(firm):
        return firm_today()


def page_url(worksite):
    return reverse("worksites:handover", args=[worksite.pk])


def error_messages(response):
    return [str(m) for m in response.context["messages"] if m.level_tag == "error"]


def test_a_foreman_starts_the_acceptance(foreman, worksite, firm_a):
    page = foreman.get(page_url(worksite))
    assert page.status_code == 200 and 'data-testid="handover-not-started"' in page.content.decode()
    response = foreman.post(reverse("worksites:handover-start", args=[worksite.pk]))
    assert response.status_code == 302
    foreman.post(reverse("worksites:handover-start", args=[worksite.pk]))
    with tenant_context(firm_a):
        handover = Handover.objects.get()
        first = handover.items.order_by("position").first()
    page = foreman.get(page_url(worksite)).content.decode()
    assert f'data-testid="item-{first.pk}"' in page and first.item in page
    assert reverse("worksites:acceptance-item-check", args=[first.pk]) in page
    assert "Documents missing:" in page and "As-built drawings" in page


def test_checking_items_pass_and_fail_with_its_rectification(foreman, handover, firm_a):
    with tenant_context(firm_a):
        first, second = list(handover.items.order_by("position")[:2])
    check = reverse("worksites:acceptance-item-check", args=[first.pk])
    assert foreman.post(check, {"result": "pass"}).status_code == 302

    url = reverse("worksites:acceptance-item-check", args=[second.pk])
    refused = foreman.post(url, {"result": "fail", "description": "", "owner": ""}, follow=True)
    assert any("Say what must be put right" in m for m in error_messages(refused))
    # Repeated next to the check, where the thumb is, not only at the top of a long page.
    assert refused.redirect_chain[-1][0].endswith(f"?at=item-{second.pk}#item-{second.pk}")
    card = refused.content.decode().split(f'data-testid="item-{second.pk}"', 1)[1].split("</li>", 1)[0]
    assert 'data-testid="refused-here"' in card and "Say what must be put right" in card
    bad_date = foreman.post(url, {"result": "fail", "description": "x", "deadline": "31/02"}, follow=True)
    assert any("Deadline" in m for m in error_messages(bad_date))
    with tenant_context(firm_a):
        assert AcceptanceItem.objects.get(pk=second.pk).result == "pending"
        assert not RectificationItem.objects.exists()

    deadline = local_today(firm_a) + timedelta(days=5)
    failed = foreman.post(
        url,
        {
            "result": "fail",
            "note": "Hollow tiles by the balcony door",
            "description": "Re-lay three tiles",
            "owner": foreman.user.pk,
            "deadline": deadline.isoformat(),
        },
    )
    assert failed.status_code == 302 and failed["Location"].endswith(f"#item-{second.pk}")
    with tenant_context(firm_a):
        assert AcceptanceItem.objects.get(pk=first.pk).result == "passed"
        assert AcceptanceItem.objects.get(pk=second.pk).result == "failed"
        rectification = RectificationItem.objects.get()
    assert (rectification.owner, rectification.deadline, rectification.acceptance_item_id) == (
        foreman.user,
        deadline,
        second.pk,
    )
    page = foreman.get(page_url(handover.worksite)).content.decode()
    assert "Re-lay three tiles" in page
    assert reverse("worksites:rectification-item-fixed", args=[rectification.pk]) in page


def test_fix_and_recheck_from_the_page(foreman, handover, firm_a):
    today = local_today(firm_a)
    with tenant_context(firm_a):
        item = handover.items.first()
        fail_check(item, foreman.user, "Seal the window", deadline=today)
        rectification = RectificationItem.objects.get()
        RectificationItem.objects.filter(pk=rectification.pk).update(deadline=today - timedelta(days=1))
    page = foreman.get(page_url(handover.worksite)).content.decode()
    assert 'data-testid="overdue"' in page

    recheck = reverse("worksites:rectification-item-recheck", args=[rectification.pk])
    early = foreman.post(recheck, {"result": "pass"}, follow=True)
    assert any("marked fixed" in m for m in error_messages(early))
    foreman.post(reverse("worksites:rectification-item-fixed", args=[rectification.pk]))
    own_work = foreman.post(recheck, {"result": "pass"}, follow=True)
    assert any("QC" in m for m in error_messages(own_work))
    qc = Client(HTTP_ACCEPT_LANGUAGE="en")
    qc.force_login(MembershipFactory(tenant=firm_a, role="qc").user)
    no_deadline = qc.post(recheck, {"result": "fail", "note": "still draughty"}, follow=True)
    assert any("deadline" in m.lower() for m in error_messages(no_deadline))
    new_deadline = today + timedelta(days=2)
    qc.post(recheck, {"result": "fail", "note": "still draughty", "new_deadline": new_deadline.isoformat()})
    with tenant_context(firm_a):
        rectification.refresh_from_db()
    assert (rectification.status, rectification.deadline) == ("open", new_deadline)
    foreman.post(reverse("worksites:rectification-item-fixed", args=[rectification.pk]))
    qc.post(recheck, {"result": "pass", "note": "sealed"})
    with tenant_context(firm_a):
        rectification.refresh_from_db()
        item.refresh_from_db()
    assert (rectification.status, rectification.recheck_note, item.result) == ("closed", "sealed", "passed")


def test_adding_a_rectification_item_without_a_check(foreman, handover, firm_a, firm_b):
    url = reverse("worksites:rectification-item-create", args=[handover.pk])
    outsider = MembershipFactory(tenant=firm_b, role="project_manager").user
    deadline = (local_today(firm_a) + timedelta(days=3)).isoformat()
    body = {"description": "Touch up paint", "owner": outsider.pk, "deadline": deadline}
    refused = foreman.post(url, body, follow=True)
    assert error_messages(refused)
    foreman.post(url, {"description": "Touch up paint", "owner": foreman.user.pk, "deadline": deadline})
    with tenant_context(firm_a):
        added = list(RectificationItem.objects.values_list("description", "acceptance_item"))
    assert added == [("Touch up paint", None)]


def test_documents_upload_per_kind_and_refuse_a_wrong_type(foreman, handover, firm_a):
    url = reverse("worksites:handover-document-add", args=[handover.pk])
    before = stored_files(firm_a)
    fake = SimpleUploadedFile("manual.pdf", b"<html>not a pdf</html>", content_type="application/pdf")
    refused = foreman.post(url, {"kind": "equipment_manuals", "file": fake}, follow=True)
    assert any("not a file type accepted here" in m for m in error_messages(refused))
    no_file = foreman.post(url, {"kind": "equipment_manuals"}, follow=True)
    assert error_messages(no_file)
    with tenant_context(firm_a):
        assert not HandoverDocument.objects.exists()
    assert stored_files(firm_a) == before

    uploaded = foreman.post(url, {"kind": "equipment_manuals", "title": "Boiler manual", "file": pdf("boiler.pdf")})
    assert uploaded.status_code == 302 and uploaded["Location"].endswith("#documents")
    page = foreman.get(page_url(handover.worksite))
    html = page.content.decode()
    assert "Boiler manual" in html and "/media/" in html
    link = html.split('href="/media/', 1)[1].split('"', 1)[0]
    served = foreman.get(f"/media/{link}")
    assert served.status_code == 200 and b"".join(served.streaming_content) == PDF_BYTES
    assert "Equipment manuals" not in [str(kind.label) for kind in page.context["page"].missing]


def test_completion_shows_every_reason_then_hands_over(foreman, handover, firm_a):
    url = reverse("worksites:handover-complete", args=[handover.pk])
    refused = foreman.post(url, {"on": local_today(firm_a).isoformat()}, follow=True)
    errors = error_messages(refused)
    assert "The worksite cannot be handed over yet." in errors
    summary = refused.content.decode().split('data-testid="handover-summary"', 1)[1].split("</form>", 1)[0]
    assert 'data-testid="refused-here"' in summary and "Documents missing" in summary
    assert any("checks are not done yet" in m for m in errors)
    assert any("Documents missing" in m and "Material certificates" in m for m in errors)
    future = foreman.post(url, {"on": (local_today(firm_a) + timedelta(days=1)).isoformat()}, follow=True)
    assert any("future" in m for m in error_messages(future))

    with tenant_context(firm_a):
        pass_all(handover, foreman.user)
        add_required_documents(handover, foreman.user)
    done = foreman.post(url, {"on": local_today(firm_a).isoformat()}, follow=True)
    assert not error_messages(done)
    html = done.content.decode()
    assert f'data-testid="handed-over-on">{local_today(firm_a).isoformat()}' in html
    assert "Complete handover" not in html  # nothing left to act on
    with tenant_context(firm_a):
        handover.refresh_from_db()
        assert handover.handed_over_on == local_today(firm_a)


def test_a_role_without_manage_reads_but_cannot_act(client, handover, firm_a):
    client.force_login(MembershipFactory(tenant=firm_a, role="customer_service").user)
    with tenant_context(firm_a):
        item = handover.items.first()
    page = client.get(page_url(handover.worksite))
    assert page.status_code == 200
    assert reverse("worksites:acceptance-item-check", args=[item.pk]) not in page.content.decode()
    check = reverse("worksites:acceptance-item-check", args=[item.pk])
    assert client.post(check, {"result": "pass"}).status_code == 403
    assert client.post(reverse("worksites:handover-complete", args=[handover.pk])).status_code == 403
    with tenant_context(firm_a):
        assert AcceptanceItem.objects.get(pk=item.pk).result == "pending"


def test_another_firms_handover_is_404_and_stays_unchanged(client, handover, firm_a, firm_b):
    client.force_login(MembershipFactory(tenant=firm_b).user)
    with tenant_context(firm_a):
        item = handover.items.first()
    assert client.get(page_url(handover.worksite)).status_code == 404
    assert client.post(reverse("worksites:handover-start", args=[handover.worksite_id])).status_code == 404
    check = reverse("worksites:acceptance-item-check", args=[item.pk])
    assert client.post(check, {"result": "pass"}).status_code == 404
    assert client.post(reverse("worksites:handover-complete", args=[handover.pk])).status_code == 404
    url = reverse("worksites:handover-document-add", args=[handover.pk])
    assert client.post(url, {"kind": "warranty_card", "file": pdf()}).status_code == 404
    with tenant_context(firm_a):
        assert AcceptanceItem.objects.get(pk=item.pk).result == "pending"
        assert not HandoverDocument.objects.exists()


def test_the_checklist_is_edited_by_the_admin_only(client, foreman, firm_a):
    assert foreman.get("/worksites/acceptance-template/").status_code == 200
    post = {
        "checks-TOTAL_FORMS": "2",
        "checks-INITIAL_FORMS": "0",
        "checks-0-area": "卫生间",
        "checks-0-item": "地漏排水顺畅",
        "checks-1-area": "Doors & windows",
        "checks-1-item": "",
    }
    assert foreman.post("/worksites/acceptance-template/", post).status_code == 403
    client.force_login(MembershipFactory(tenant=firm_a, role="admin").user)
    bad = client.post("/worksites/acceptance-template/", post)
    assert bad.status_code == 200 and bad.context["formset"].forms[1].errors["item"]
    refused = client.post(
        "/worksites/acceptance-template/", {**post, "checks-TOTAL_FORMS": "0"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert refused.status_code == 200
    assert refused.context["formset"].non_form_errors() == ["A checklist needs at least one check."]
    post["checks-1-item"] = "Seals tight, no draught"
    assert client.post("/worksites/acceptance-template/", post).status_code == 302
    with tenant_context(firm_a):
        assert [(t.area, t.item) for t in AcceptanceItemTemplate.objects.all()] == [
            ("卫生间", "地漏排水顺畅"),
            ("Doors & windows", "Seals tight, no draught"),
        ]


def test_rectification_list_filters_overdue_and_mine(foreman, handover, firm_a):
    other = MembershipFactory(tenant=firm_a, role="qc").user
    today = local_today(firm_a)
    with tenant_context(firm_a):
        mine_late = services.rectification_item_create(
            handover=handover, description="Mine, late", owner=foreman.user, deadline=today
        )
        RectificationItem.objects.filter(pk=mine_late.pk).update(deadline=today - timedelta(days=1))
        mine_later = services.rectification_item_create(
            handover=handover, description="Mine, next week", owner=foreman.user, deadline=today + timedelta(days=7)
        )
        theirs = services.rectification_item_create(
            handover=handover, description="Theirs, late", owner=other, deadline=today
        )
        RectificationItem.objects.filter(pk=theirs.pk).update(deadline=today - timedelta(days=3))
        closed = services.rectification_item_create(
            handover=handover, description="Done", owner=foreman.user, deadline=today
        )
        RectificationItem.objects.filter(pk=closed.pk).update(status="closed")

    def listed(**params):
        return [item.pk for item in foreman.get("/worksites/rectification-items/", params).context["items"]]

    assert listed() == [theirs.pk, mine_later.pk, mine_late.pk]
    assert listed(overdue="on") == [theirs.pk, mine_late.pk]
    assert listed(mine="on") == [mine_later.pk, mine_late.pk]
    assert listed(overdue="on", mine="on") == [mine_late.pk]
    assert listed(status="closed") == [closed.pk]
    assert listed(status="nonsense") == [theirs.pk, mine_later.pk, mine_late.pk]  # a bad filter is ignored
    html = foreman.get("/worksites/rectification-items/").content.decode()
    assert 'class="badge badge--overdue"' in html and page_url(handover.worksite) in html
    assert 'data-testid="rectification-list"' in html and f'<tr data-testid="rectification-{mine_late.pk}">' in html


def _fill(handover, firm, by, n):
    """n more failed checks, each with a rectification item, and n more documents."""
    with tenant_context(firm):
        for item in handover.items.filter(result="pending").order_by("position")[:n]:
            fail_check(item, by, f"Fix {item.item}")
        for _ in range(n):
            services.handover_document_add(handover=handover, kind="other", upload=pdf(), uploaded_by=by)


def test_the_handover_page_query_count_does_not_grow(foreman, handover, firm_a, django_assert_max_num_queries):
    _fill(handover, firm_a, foreman.user, 1)
    with django_assert_max_num_queries(40) as counted:
        foreman.get(page_url(handover.worksite))
    _fill(handover, firm_a, foreman.user, 6)
    with django_assert_max_num_queries(len(counted.captured_queries)):
        page = foreman.get(page_url(handover.worksite))
    assert len(page.context["page"].rectification_items) == 7 and len(page.context["page"].documents) == 7


def test_the_rectification_list_query_count_does_not_grow(foreman, firm_a, django_assert_max_num_queries):
    def add(number):
        with tenant_context(firm_a):
            handover = services.handover_start(worksite=open_worksite(number), started_by=foreman.user)
            services.rectification_item_create(
                handover=handover, description=f"Item {number}", owner=foreman.user, deadline=local_today(firm_a)
            )

    add("HT-0")
    with django_assert_max_num_queries(40) as counted:
        foreman.get("/worksites/rectification-items/")
    for n in range(1, 6):
        add(f"HT-{n}")
    with django_assert_max_num_queries(len(counted.captured_queries)):
        page = foreman.get("/worksites/rectification-items/")
    assert len(page.context["items"]) == 6


@pytest.mark.browser
def test_on_a_phone_a_check_is_passed_or_failed_with_one_thumb(browser, live_server, transactional_db):  # noqa: F811
    from playwright.sync_api import expect

    from tests.factories import TenantFactory, UserFactory
    from tests.ui.browser import SCREENSHOTS, go, log_in

    firm = TenantFactory(name="安居装饰", slug="anju", language="en")
    foreman = UserFactory(username="foreman", name="Li Gong")
    MembershipFactory(user=foreman, tenant=firm, role="project_manager")
    with tenant_context(firm):
        worksite = open_worksite()
        handover = services.handover_start(worksite=worksite, started_by=foreman)
        first, second = list(handover.items.order_by("position")[:2])
    page = browser.new_page(locale="en-GB", viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    log_in(page, live_server, "foreman")
    page.goto(f"{live_server.url}{page_url(worksite)}")

    def assert_fits():
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"page is {width}px wide"

    assert_fits()
    go(page, page.get_by_test_id(f"item-{first.pk}").get_by_role("button", name="Pass"))
    expect(page.get_by_test_id(f"item-{first.pk}")).to_contain_text("Passed")

    card = page.get_by_test_id(f"item-{second.pk}")
    card.locator("summary").click()
    card.get_by_label("What to put right").fill("Re-seal the bathroom window")
    card.get_by_label("Owner").select_option(str(foreman.pk))
    assert_fits()
    page.screenshot(path=SCREENSHOTS / "handover-phone-fail.png", full_page=True)
    go(page, card.get_by_role("button", name="Record failure and rectification"))
    expect(page.get_by_test_id(f"item-{second.pk}")).to_contain_text("Failed")
    expect(page.get_by_test_id("rectification-items")).to_contain_text("Re-seal the bathroom window")
    assert_fits()
    page.screenshot(path=SCREENSHOTS / "handover-phone.png", full_page=True)
    go(page, page.get_by_role("button", name="Complete handover"))
    expect(page.get_by_test_id("handover-summary").get_by_test_id("refused-here")).to_contain_text("Documents missing")
    assert_fits()
    page.screenshot(path=SCREENSHOTS / "handover-phone-refused.png")
