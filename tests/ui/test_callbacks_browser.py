"""Callbacks in a real browser: a customer-service agent works a due phone callback from the queue through
the survey, and a homeowner answers the SMS survey on a phone."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from callbacks.models import Callback, Method, Survey
from leads.models import Lead
from renocrm.accounts.roles import Role
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.time import firm_today
from tests.callbacks.factories import CallbackFactory
from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.ui.browser import SCREENSHOTS, go, log_in

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def firm(transactional_db):
    return TenantFactory(name="安居装饰", slug="anju")


@pytest.fixture
def agent(firm):
    user = UserFactory(username="xiaozhou", name="周客服", language="en")
    MembershipFactory(user=user, tenant=firm, role=Role.CUSTOMER_SERVICE)
    return user


def released(firm, customer_name, **kwargs):
    kwargs["worksite__contract__project__lead__customer__name"] = customer_name
    with tenant_context(firm):
        return CallbackFactory(status=Callback.Status.OPEN, due_on=firm_today(), released_at=timezone.now(), **kwargs)


def pick(page, question, answer):
    page.get_by_test_id(f"q-{question}").get_by_text(answer, exact=True).click()


def test_an_agent_works_a_due_phone_callback_from_the_queue(browser, live_server, firm, agent):
    callback = released(firm, method=Method.PHONE, assigned_to=agent, customer_name="王芳")
    page = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 900})
    page.set_extra_http_headers({"Accept-Language": "en"})
    log_in(page, live_server, "xiaozhou")

    go(page, page.get_by_role("link", name="Callbacks", exact=True))
    queue = page.get_by_test_id("work-queue")
    page.screenshot(path=SCREENSHOTS / "callback-queue.png", full_page=True)
    expect(page.get_by_test_id("bucket-due_today")).to_have_attribute("aria-current", "page")
    row = queue.get_by_test_id(f"callback-{callback.pk}")
    expect(row).to_contain_text("王芳")
    # The number shows masked; "Show" reveals it (a recorded look) as a tel: link.
    masked = callback.customer.mobile[:3] + "****" + callback.customer.mobile[-4:]
    expect(row.locator(".contact")).to_contain_text(masked)
    row.get_by_test_id("reveal").click()
    expect(row.locator("a[href^='tel:']")).to_have_text(callback.customer.mobile)

    # The keyboard reaches the row; Enter opens the callback.
    page.locator("body").press("j")
    expect(row.locator(".cb-row-link")).to_be_focused()
    with page.expect_navigation(wait_until="load"):
        page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("王芳")

    page.screenshot(path=SCREENSHOTS / "callback-page.png", full_page=True)

    # The call goes through: the survey, filled in while talking.
    form = page.get_by_test_id("survey-form")
    pick(page, "overall", "Very satisfied")
    pick(page, "nps", "9")
    form.get_by_test_id("trade-painting").get_by_test_id("q-defects_painting").get_by_text("Cracks").click()
    pick(page, "demands", "Furniture upgrade")
    page.locator("[name=demand_note]").fill("A new dining table")
    expect(page.get_by_test_id("repair-section").locator("[name=repair_description]")).to_be_hidden()
    go(page, page.get_by_test_id("survey-submit"))

    expect(page.get_by_test_id("callback-status")).to_have_text("Completed")
    expect(page.get_by_test_id("answer-defects")).to_contain_text("Painting: Cracks")
    page.screenshot(path=SCREENSHOTS / "callback-survey-done.png", full_page=True)
    go(page, page.get_by_test_id("survey-lead"))
    expect(page.locator("h1")).to_contain_text("王芳")

    with tenant_context(firm):
        callback.refresh_from_db()
        survey = Survey.objects.get(callback=callback)
        assert callback.status == Callback.Status.COMPLETED and callback.completed_by == agent
        assert (survey.overall, survey.nps, survey.via) == (5, 9, Survey.Via.STAFF)
        assert [(d.trade, d.kind) for d in survey.defects.all()] == [("painting", "crack")]
        assert Lead.objects.filter(pk=survey.lead_id, channel=Lead.Channel.AFTERCARE).exists()


def test_a_homeowner_answers_the_sms_survey_on_a_phone(browser, live_server, firm):
    from callbacks.services import survey_link as services

    callback = released(firm, method=Method.SMS, customer_name="王芳")
    with tenant_context(firm):
        url = services.survey_link_url(callback)
    phone = browser.new_context(locale="zh-CN", **PHONE).new_page()
    phone.goto(f"{live_server.url}{url}")
    expect(phone.get_by_test_id("portal-firm")).to_have_text("安居装饰")
    expect(phone.locator(".main-nav")).to_have_count(0)
    go(phone, phone.get_by_test_id("language-switch").get_by_role("link", name="English"))
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375

    phone.screenshot(path=SCREENSHOTS / "callback-survey-phone.png", full_page=True)
    pick(phone, "overall", "Satisfied")
    pick(phone, "quality_painting", "Very satisfied")
    pick(phone, "nps", "8")
    pick(phone, "demands", "Soft furnishing")
    pick(phone, "qc_rating", "Very satisfied")
    pick(phone, "crew_rating", "Satisfied")
    wardrobe = phone.get_by_test_id("material-1")
    wardrobe.locator("[name=material_item_0]").fill("Wardrobe")
    wardrobe.locator("[name=material_brand_0]").fill("Oppein")
    wardrobe.get_by_test_id("q-material_satisfaction_0").get_by_text("Dissatisfied", exact=True).click()
    wardrobe.locator("[name=material_comment_0]").fill("The doors rub")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    phone.locator("[name=suggestions]").fill("Thank the painters from us")
    go(phone, phone.get_by_test_id("survey-submit"))
    expect(phone.get_by_test_id("survey-thanks")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375

    with tenant_context(firm):
        survey = Survey.objects.get(callback=callback)
        assert survey.via == Survey.Via.SMS_LINK
        assert (survey.overall, survey.quality_painting, survey.nps) == (4, 5, 8)
        assert (survey.qc_rating, survey.crew_rating) == (5, 4)
        assert survey.suggestions == "Thank the painters from us"
        assert [(m.item, m.brand, m.satisfaction) for m in survey.materials.all()] == [("Wardrobe", "Oppein", 2)]
        # The suggestion goes to customer service, the wardrobe to construction.
        assert set(survey.follow_ups.values_list("department", flat=True)) == {"service", "construction"}
