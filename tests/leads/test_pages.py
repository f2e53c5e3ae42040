from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from leads import selectors
from leads.models import Customer, Lead, Property
from leads.services import pipeline
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.time import firm_today
from tests.factories import MembershipFactory
from tests.leads.factories import (
    CustomerFactory,
    FollowUpFactory,
    LeadFactory,
    LeadStatusChangeFactory,
    PropertyFactory,
    ReferralRewardFactory,
)


@pytest.fixture
def sales(client, firm_a):
    client.force_login(MembershipFactory(tenant=firm_a, role="sales").user)
    return client


@pytest.mark.parametrize("url", ["/leads/", "/leads/new/"])
def test_pages_open_for_sales_and_are_refused_to_qc(client, sales, firm_a, url):
    assert sales.get(url).status_code == 200
    client.force_login(MembershipFactory(tenant=firm_a, role="qc").user)
    assert client.get(url).status_code == 403


def test_create_a_lead_through_the_form_and_a_known_mobile_links(sales, firm_a):
    with tenant_context(firm_a):
        known = CustomerFactory(mobile="13800138000", name="王芳")
    response = sales.post(
        "/leads/new/", {"name": "王芳", "mobile": "138 0013 8000", "channel": "showroom"}, follow=True
    )
    assert response.status_code == 200
    assert "王芳" in response.content.decode()
    with tenant_context(firm_a):
        lead = Lead.objects.get()
        assert lead.customer_id == known.pk and Customer.objects.count() == 1
    assert [str(m) for m in response.context["messages"]]


def test_bad_mobile_shows_the_error_and_writes_nothing(sales, firm_a):
    response = sales.post("/leads/new/", {"name": "王", "mobile": "12345", "channel": "online"})
    assert response.status_code == 200
    assert response.context["form"].errors["mobile"]
    with tenant_context(firm_a):
        assert not Lead.objects.exists()


def test_needs_beyond_the_leads_limits_are_field_errors(sales, firm_a):
    response = sales.post(
        "/leads/new/",
        {"name": "王", "mobile": "13800138000", "channel": "online", "household": "x" * 201, "budget_max": "1" * 13},
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"household", "budget_max"}
    with tenant_context(firm_a):
        assert not Lead.objects.exists()


def test_follow_up_and_status_forms_on_the_detail_page(sales, firm_a):
    with tenant_context(firm_a):
        lead = LeadFactory()
    url = f"/leads/{lead.pk}/"
    sales.post(url, {"follow_up": "1", "fu-kind": "call", "fu-outcome": "约量房", "fu-next_contact_on": "2026-12-01"})
    refused = sales.post(url, {"st-status": "lost", "st-reason": ""})
    assert refused.context["status_form"].errors["reason"]
    sales.post(url, {"st-status": "measured"})
    with tenant_context(firm_a):
        lead.refresh_from_db()
    assert (lead.status, str(lead.next_follow_up_on)) == ("measured", "2026-12-01")
    assert "约量房" in sales.get(url).content.decode()


def test_a_read_only_role_cannot_post_on_the_lead_page(client, firm_a, lead_a):
    client.force_login(MembershipFactory(tenant=firm_a, role="customer_service").user)
    url = f"/leads/{lead_a.pk}/"
    assert 'name="follow_up"' not in client.get(url).content.decode()
    assert client.post(url, {"follow_up": "1", "fu-kind": "call", "fu-outcome": "x"}).status_code == 403
    assert client.post(url, {"st-status": "contacted"}).status_code == 403
    with tenant_context(firm_a):
        lead_a.refresh_from_db()
        assert (lead_a.status, lead_a.follow_ups.count()) == ("new", 0)


def test_lead_page_keeps_its_query_count_as_its_log_grows(sales, firm_a, lead_a, django_assert_max_num_queries):
    by = MembershipFactory(tenant=firm_a, role="sales").user
    url = f"/leads/{lead_a.pk}/"
    with tenant_context(firm_a):
        FollowUpFactory(lead=lead_a, by=by)
        LeadStatusChangeFactory(lead=lead_a, by=by)
    with django_assert_max_num_queries(20) as few:
        sales.get(url)
    with tenant_context(firm_a):
        FollowUpFactory.create_batch(5, lead=lead_a, by=by)
        LeadStatusChangeFactory.create_batch(5, lead=lead_a, by=by)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = sales.get(url)
    assert page.content.decode().count(str(by)) == 12


def test_another_firms_lead_is_404(sales, firm_b):
    with tenant_context(firm_b):
        lead = LeadFactory()
    assert sales.get(f"/leads/{lead.pk}/").status_code == 404


def test_list_filters_and_query_count(sales, firm_a, django_assert_max_num_queries):
    with tenant_context(firm_a):
        LeadFactory(status="proposal")
        LeadFactory()
    with django_assert_max_num_queries(12) as few:
        page = sales.get("/leads/", {"status": "proposal"})
    assert len(page.context["leads"]) == 1
    with tenant_context(firm_a):
        for _ in range(30):
            LeadFactory(status="proposal")
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = sales.get("/leads/", {"status": "proposal"})
    assert len(page.context["leads"]) == 31


# Board, follow-ups, customers and lead edit.


@pytest.fixture
def lead_a(firm_a):
    with tenant_context(firm_a):
        return LeadFactory(customer=CustomerFactory(name="李雷"))


NEW_PAGES = [
    "/leads/board/",
    "/leads/follow-ups/",
    "/leads/customers/",
    "/leads/customers/new/",
    "/leads/customers/{customer}/",
    "/leads/customers/{customer}/edit/",
    "/leads/customers/{customer}/properties/new/",
    "/leads/{lead}/edit/",
]
MANAGE_PAGES = [url for url in NEW_PAGES if url.endswith(("new/", "edit/"))]


@pytest.mark.parametrize("url", NEW_PAGES)
def test_new_pages_open_for_sales_and_are_refused_to_qc(client, sales, firm_a, lead_a, url):
    url = url.format(customer=lead_a.customer_id, lead=lead_a.pk)
    assert sales.get(url).status_code == 200
    client.force_login(MembershipFactory(tenant=firm_a, role="qc").user)
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", NEW_PAGES)
def test_customer_service_reads_but_does_not_write(client, firm_a, lead_a, url):
    client.force_login(MembershipFactory(tenant=firm_a, role="customer_service").user)
    url = url.format(customer=lead_a.customer_id, lead=lead_a.pk)
    assert client.get(url).status_code == (403 if url.endswith(("new/", "edit/")) else 200)


def test_customer_service_sees_no_write_links_and_cannot_fulfil(client, firm_a):
    with tenant_context(firm_a):
        reward = ReferralRewardFactory()
    client.force_login(MembershipFactory(tenant=firm_a, role="customer_service").user)
    page = client.get(f"/leads/customers/{reward.referrer_id}/").content.decode()
    assert "/edit/" not in page and "/fulfil/" not in page
    assert client.post(f"/leads/referral-rewards/{reward.pk}/fulfil/").status_code == 403
    with tenant_context(firm_a):
        reward.refresh_from_db()
    assert reward.status == "pending"


@pytest.mark.parametrize(
    "url",
    [
        "/leads/customers/{customer}/",
        "/leads/customers/{customer}/edit/",
        "/leads/customers/{customer}/properties/new/",
        "/leads/{lead}/edit/",
    ],
)
def test_another_firms_customer_and_lead_are_404(sales, firm_b, url):
    with tenant_context(firm_b):
        lead = LeadFactory()
    url = url.format(customer=lead.customer_id, lead=lead.pk)
    assert sales.get(url).status_code == 404
    assert sales.post(url, {"name": "x", "mobile": "13900000000", "address": "x", "area": "9"}).status_code == 404


def test_another_firms_reward_cannot_be_fulfilled(sales, firm_b):
    with tenant_context(firm_b):
        reward = ReferralRewardFactory()
    response = sales.post(f"/leads/referral-rewards/{reward.pk}/fulfil/")
    assert response.status_code == 404
    with tenant_context(firm_b):
        reward.refresh_from_db()
    assert reward.status == "pending"


def _board_column(page, lead):
    for column in page.context["columns"]:
        if any(card.pk == lead.pk for card in column.leads):
            return column
    return None


def test_board_puts_leads_in_their_columns_and_marks_overdue(sales, firm_a):
    today = date.today()
    with tenant_context(firm_a):
        late = LeadFactory(status="contacted", next_follow_up_on=today - timedelta(days=5))
        upcoming = LeadFactory(status="measured", next_follow_up_on=today + timedelta(days=5))
        won = LeadFactory(status="won")
        old_lost = LeadFactory(status="lost", lost_reason="预算")
        Lead.objects.filter(pk=old_lost.pk).update(updated_at=timezone.now() - timedelta(days=90))
    page = sales.get("/leads/board/")
    assert [column.status for column in page.context["columns"]] == [
        "new",
        "contacted",
        "measured",
        "proposal",
        "won",
        "lost",
    ]
    assert _board_column(page, late).status == "contacted"
    assert _board_column(page, upcoming).status == "measured"
    assert _board_column(page, won).status == "won"
    assert _board_column(page, old_lost) is None  # lost long ago: only in the list
    cards = {card.pk: card for column in page.context["columns"] for card in column.leads}
    assert cards[late.pk].is_overdue and not cards[upcoming.pk].is_overdue
    html = page.content.decode()
    assert html.count("board-card--overdue") == 1
    assert f'href="/leads/{late.pk}/"' in html and "/leads/?status=lost" in html
    counts = {column.status: column.count for column in page.context["columns"]}
    assert counts == {"new": 0, "contacted": 1, "measured": 1, "proposal": 0, "won": 1, "lost": 0}


def test_board_caps_columns_and_filters_to_mine(client, firm_a):
    me = MembershipFactory(tenant=firm_a, role="sales").user
    client.force_login(me)
    with tenant_context(firm_a):
        mine = LeadFactory(assigned_to=me)
        LeadFactory.create_batch(3)
    with_all = client.get("/leads/board/")
    assert with_all.context["columns"][0].count == 4
    only_mine = client.get("/leads/board/", {"mine": "1"})
    assert [card.pk for card in only_mine.context["columns"][0].leads] == [mine.pk]
    with tenant_context(firm_a):
        columns = selectors.pipeline_board(per_column=2)
    assert (columns[0].count, len(columns[0].leads), columns[0].capped) == (4, 2, True)


def test_board_query_count_does_not_grow(sales, firm_a, django_assert_max_num_queries):
    with tenant_context(firm_a):
        LeadFactory(status="proposal")
    with django_assert_max_num_queries(12) as few:
        sales.get("/leads/board/")
    with tenant_context(firm_a):
        sales_user = MembershipFactory(tenant=firm_a, role="sales").user
        for n, status in enumerate(["new", "contacted", "measured", "proposal", "won", "lost"] * 5):
            LeadFactory(status=status, assigned_to=sales_user, next_follow_up_on=date.today() - timedelta(days=n))
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = sales.get("/leads/board/")
    assert sum(len(column.leads) for column in page.context["columns"]) == 31


def test_my_follow_ups_shows_only_my_due_and_overdue_leads(client, firm_a):
    me = MembershipFactory(tenant=firm_a, role="sales").user
    client.force_login(me)
    with tenant_context(firm_a):
        today = firm_today()
        due = LeadFactory(assigned_to=me, next_follow_up_on=today)
        late = LeadFactory(assigned_to=me, next_follow_up_on=today - timedelta(days=3))
        LeadFactory(assigned_to=me, next_follow_up_on=today + timedelta(days=3))  # not yet
        LeadFactory(assigned_to=me, next_follow_up_on=today - timedelta(days=3), status="lost")  # closed
        LeadFactory(next_follow_up_on=today)  # someone else's
    page = client.get("/leads/follow-ups/")
    assert [lead.pk for lead in page.context["due"]] == [due.pk]
    assert [lead.pk for lead in page.context["overdue"]] == [late.pk]
    html = page.content.decode()
    assert f'href="/leads/{due.pk}/"' in html and f'href="/leads/{late.pk}/"' in html


def test_my_follow_ups_keeps_its_query_count_as_my_leads_grow(client, firm_a, django_assert_max_num_queries):
    me = MembershipFactory(tenant=firm_a, role="sales").user
    client.force_login(me)
    with tenant_context(firm_a):
        today = firm_today()
        LeadFactory(assigned_to=me, next_follow_up_on=today)
        LeadFactory(assigned_to=me, next_follow_up_on=today - timedelta(days=1))
    with django_assert_max_num_queries(14) as few:
        client.get("/leads/follow-ups/")
    with tenant_context(firm_a):
        for n in range(10):
            LeadFactory(assigned_to=me, next_follow_up_on=today)
            LeadFactory(assigned_to=me, next_follow_up_on=today - timedelta(days=n + 2))
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get("/leads/follow-ups/")
    assert (len(page.context["due"]), len(page.context["overdue"])) == (11, 11)


def test_follow_up_log_filters_by_kind_and_pages_with_few_queries(sales, firm_a, django_assert_max_num_queries):
    with tenant_context(firm_a):
        FollowUpFactory(kind="visit", outcome="看了样板间")
        FollowUpFactory(kind="call", outcome="约了量房")
    page = sales.get("/leads/follow-ups/", {"kind": "visit"})
    assert [follow_up.outcome for follow_up in page.context["log"]] == ["看了样板间"]
    with django_assert_max_num_queries(14) as few:
        sales.get("/leads/follow-ups/")
    with tenant_context(firm_a):
        FollowUpFactory.create_batch(60, by=MembershipFactory(tenant=firm_a, role="sales").user)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = sales.get("/leads/follow-ups/")
    assert len(page.context["log"]) == 50 and page.context["older"]
    older = sales.get("/leads/follow-ups/", {"before": page.context["older"]})
    assert len(older.context["log"]) == 12


def test_customer_list_searches_and_keeps_its_query_count(sales, firm_a, django_assert_max_num_queries):
    with tenant_context(firm_a):
        LeadFactory(customer=CustomerFactory(name="韩梅梅", mobile="13712345678"))
    assert [c.name for c in sales.get("/leads/customers/", {"q": "梅梅"}).context["customers"]] == ["韩梅梅"]
    assert [c.name for c in sales.get("/leads/customers/", {"q": "137 1234"}).context["customers"]] == ["韩梅梅"]
    with django_assert_max_num_queries(12) as few:
        sales.get("/leads/customers/")
    with tenant_context(firm_a):
        for _ in range(30):
            LeadFactory()
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = sales.get("/leads/customers/")
    assert len(page.context["customers"]) == 31 and page.context["customers"][-1].lead_count == 1


def test_customer_page_keeps_its_query_count_as_its_lists_grow(sales, firm_a, django_assert_max_num_queries):
    manager = MembershipFactory(tenant=firm_a, role="sales").user
    designer = MembershipFactory(tenant=firm_a, role="designer").user
    with tenant_context(firm_a):
        customer = CustomerFactory()

    def grow():
        with tenant_context(firm_a):
            place = PropertyFactory(customer=customer)
            LeadFactory(customer=customer, property=place, assigned_to=manager, designer=designer)
            ReferralRewardFactory(referrer=customer)

    grow()
    url = f"/leads/customers/{customer.pk}/"
    with django_assert_max_num_queries(14) as few:
        sales.get(url)
    for _ in range(5):
        grow()
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = sales.get(url).content.decode()
    assert html.count(str(designer)) == 6 and html.count("/fulfil/") == 6


def test_create_a_customer_and_a_known_mobile_is_a_field_error(sales, firm_a):
    response = sales.post(
        "/leads/customers/new/", {"name": "张三", "mobile": "138-0013-8000", "birthday": "1980-05-01"}
    )
    with tenant_context(firm_a):
        customer = Customer.objects.get()
    assert response.status_code == 302 and response.url == f"/leads/customers/{customer.pk}/"
    assert (customer.mobile, str(customer.birthday)) == ("13800138000", "1980-05-01")
    again = sales.post("/leads/customers/new/", {"name": "张三丰", "mobile": "13800138000"})
    assert again.status_code == 200 and again.context["form"].errors["mobile"]
    bad = sales.post("/leads/customers/new/", {"name": "", "mobile": "123"})
    assert bad.context["form"].errors["name"]
    assert sales.post("/leads/customers/new/", {"name": "李", "mobile": "123"}).context["form"].errors["mobile"]
    with tenant_context(firm_a):
        assert Customer.objects.count() == 1


def test_edit_a_customer(sales, firm_a):
    with tenant_context(firm_a):
        customer = CustomerFactory(name="王五")
        other = CustomerFactory()
    url = f"/leads/customers/{customer.pk}/edit/"
    assert sales.get(url).context["form"].initial["name"] == "王五"
    taken = sales.post(url, {"name": "王五", "mobile": other.mobile})
    assert taken.context["form"].errors["mobile"]
    assert sales.post(url, {"name": "王小五", "mobile": customer.mobile, "notes": "喜欢原木风"}).status_code == 302
    with tenant_context(firm_a):
        customer.refresh_from_db()
    assert (customer.name, customer.notes) == ("王小五", "喜欢原木风")


def test_add_a_property_and_a_zero_area_is_refused(sales, firm_a, lead_a):
    url = f"/leads/customers/{lead_a.customer_id}/properties/new/"
    home = {"city": "上海市", "district": "浦东新区", "street": "锦绣路1号", "condition": "old", "kind": "apartment"}
    refused = sales.post(url, {**home, "area": "0"})
    assert refused.status_code == 200 and refused.context["form"].errors["area"]
    with tenant_context(firm_a):
        assert not Property.objects.exists()
    saved = sales.post(url, {**home, "area": "88.5"})
    assert saved.status_code == 302
    with tenant_context(firm_a):
        place = Property.objects.get()
    assert (place.customer_id, place.area, place.address) == (
        lead_a.customer_id,
        Decimal("88.50"),
        "上海市浦东新区 锦绣路1号",
    )
    page = sales.get(f"/leads/customers/{lead_a.customer_id}/").content.decode()
    # Addresses show masked until revealed.
    assert "上海市浦东新****" in page and "锦绣路1号" not in page


def _lead_edit_data(**overrides):
    data = {
        "household": "三口之家",
        "living_habits": "在家办公",
        "style_preferences": "现代简约",
        "budget_min": "200000",
        "budget_max": "300000",
        "core_needs": "收纳",
        "next_follow_up_on": "2026-12-01",
    }
    return {**data, **overrides}


def test_lead_edit_saves_the_needs_property_and_assignment(sales, firm_a, lead_a):
    manager = MembershipFactory(tenant=firm_a, role="sales").user
    designer = MembershipFactory(tenant=firm_a, role="designer").user
    with tenant_context(firm_a):
        place = PropertyFactory(customer=lead_a.customer)
    response = sales.post(
        f"/leads/{lead_a.pk}/edit/",
        _lead_edit_data(property=place.pk, assigned_to=manager.pk, designer=designer.pk),
    )
    assert response.status_code == 302 and response.url == f"/leads/{lead_a.pk}/"
    with tenant_context(firm_a):
        lead_a.refresh_from_db()
    assert (lead_a.household, lead_a.budget_max, str(lead_a.next_follow_up_on)) == (
        "三口之家",
        Decimal("300000"),
        "2026-12-01",
    )
    assert (lead_a.property_id, lead_a.assigned_to_id, lead_a.designer_id) == (place.pk, manager.pk, designer.pk)
    detail = sales.get(f"/leads/{lead_a.pk}/").content.decode()
    assert str(designer) in detail and f'href="/leads/{lead_a.pk}/edit/"' in detail
    assert f'href="/leads/customers/{lead_a.customer_id}/"' in detail


def test_lead_edit_refuses_a_bad_budget_range_and_writes_nothing(sales, firm_a, lead_a):
    response = sales.post(f"/leads/{lead_a.pk}/edit/", _lead_edit_data(budget_min="300000", budget_max="200000"))
    assert response.status_code == 200 and response.context["form"].errors["budget_max"]
    with tenant_context(firm_a):
        lead_a.refresh_from_db()
    assert (lead_a.household, lead_a.budget_min) == ("", None)


def test_lead_edit_offers_only_the_customers_properties_and_fitting_staff(sales, firm_a, firm_b, lead_a):
    with tenant_context(firm_a):
        someone_elses = PropertyFactory()
    qc = MembershipFactory(tenant=firm_a, role="qc").user
    outsider = MembershipFactory(tenant=firm_b, role="designer").user
    former = MembershipFactory(tenant=firm_a, role="designer", is_active=False).user
    designer = MembershipFactory(tenant=firm_a, role="designer").user
    form = sales.get(f"/leads/{lead_a.pk}/edit/").context["form"]
    assert list(form.fields["designer"].queryset) == [designer]
    with tenant_context(firm_a):
        assert not form.fields["property"].queryset.exists()
    for data in (
        {"property": someone_elses.pk},
        {"assigned_to": qc.pk},
        {"designer": outsider.pk},
        {"designer": former.pk},
    ):
        response = sales.post(f"/leads/{lead_a.pk}/edit/", _lead_edit_data(**data))
        assert response.status_code == 200 and response.context["form"].errors[next(iter(data))]
    with tenant_context(firm_a):
        lead_a.refresh_from_db()
    assert (lead_a.property_id, lead_a.assigned_to_id, lead_a.designer_id, lead_a.household) == (None, None, None, "")


def test_mark_a_referral_reward_fulfilled(sales, firm_a):
    with tenant_context(firm_a):
        reward = ReferralRewardFactory()
    url = f"/leads/customers/{reward.referrer_id}/"
    fulfil = f"/leads/referral-rewards/{reward.pk}/fulfil/"
    assert f'action="{fulfil}"' in sales.get(url).content.decode()
    assert sales.get(fulfil).status_code == 405
    assert sales.post(fulfil).status_code == 302
    with tenant_context(firm_a):
        reward.refresh_from_db()
    assert reward.status == "fulfilled" and reward.fulfilled_at
    assert f'action="{fulfil}"' not in sales.get(url).content.decode()


def test_tabs_link_the_leads_pages(sales):
    html = sales.get("/leads/board/").content.decode()
    for url in ("/leads/", "/leads/board/", "/leads/follow-ups/", "/leads/customers/"):
        assert f'href="{url}"' in html
    assert 'href="/leads/board/" aria-current="page"' in html


def test_lead_update_checks_the_property_and_takes_only_known_fields(firm_a):
    with tenant_context(firm_a):
        lead = LeadFactory()
        with pytest.raises(ValidationError) as refused:
            pipeline.lead_update(lead=lead, property=PropertyFactory())
        assert "property" in refused.value.message_dict
        with pytest.raises(TypeError):
            pipeline.lead_update(lead=lead, status="won")
        pipeline.lead_update(lead=lead, budget_max=Decimal("100"))
        with pytest.raises(ValidationError):
            pipeline.lead_update(lead=lead, budget_min=Decimal("200"))  # above the stored upper end
        lead.refresh_from_db()
        assert (lead.budget_min, lead.budget_max, lead.status) == (None, Decimal("100"), "new")


@pytest.mark.parametrize(
    ("zone", "shown"), [("Asia/Shanghai", "2026-03-02 01:30"), ("Europe/London", "2026-03-01 17:30")]
)
def test_pages_show_times_in_the_firms_time_zone(sales, firm_a, lead_a, zone, shown):
    from datetime import UTC, datetime

    firm_a.time_zone = zone
    firm_a.save()
    with tenant_context(firm_a):
        FollowUpFactory(lead=lead_a, at=datetime(2026, 3, 1, 17, 30, tzinfo=UTC))

    page = sales.get(f"/leads/{lead_a.pk}/").content.decode()

    assert shown in page
