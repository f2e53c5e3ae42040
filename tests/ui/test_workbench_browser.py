"""The sales and design workbench end to end in a real browser, as its users work it: a measurement booked on a
lead's page shows on the designer's agenda and in their calendar feed, and the header's search finds the customer
by the last four digits of the mobile; a designer builds a 40-line quotation from the item library across three
rooms with fees and a discount over the firm's threshold, a firm admin approves the discount, the designer prints
the PDF and sends the link by SMS, the homeowner signs on a 375 px phone and sees the signed PDF's SHA-256 (as does
the designer), the contract is signed, and finance finds an overdue instalment in its aging bucket.

Set up with services only: the firm, its staff, its item library, the second story's lead, and the one date
moved (an instalment's due day, so that it is 45 days overdue)."""

import hashlib
import urllib.request
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from io import BytesIO
from urllib.parse import urlsplit

import icalendar
import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from contracts import documents
from contracts.models import Contract, Instalment, MeasurementAppointment, QuotationVersion, SignedDocument
from renocrm.accounts.models import User
from renocrm.accounts.roles import Role
from renocrm.outbox import sms
from renocrm.outbox.models import Notification
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.time import firm_today
from tests.contracts.factories import PriceItemFactory
from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.leads.factories import CustomerFactory, LeadFactory, PropertyFactory
from tests.ui.browser import SCREENSHOTS, go, log_in

pytestmark = pytest.mark.browser

FIRM = "杭州匠心装饰工程有限公司"
CENT = Decimal("0.01")
# A save re-renders the whole 40-line editor; the machine may be busy.
SLOW = 20_000

# The firm's item library: code, name, trade, unit, unit price, cost price.
LIBRARY = [
    ("CQ-01", "墙体拆除", "demolition", "m²", "45.00", "28.00"),
    ("CQ-02", "垃圾清运", "demolition", "车", "380.00", "260.00"),
    ("SD-01", "强电布线 BV2.5", "plumbing_electrical", "m", "32.00", "18.50"),
    ("SD-02", "弱电网线布线", "plumbing_electrical", "m", "26.00", "14.00"),
    ("SD-03", "PPR 给水管", "plumbing_electrical", "m", "58.00", "33.00"),
    ("SD-04", "开关插座安装", "plumbing_electrical", "个", "15.00", "6.00"),
    ("NW-01", "地砖铺贴 800×800", "masonry", "m²", "65.00", "41.00"),
    ("NW-02", "墙砖铺贴", "masonry", "m²", "72.00", "45.00"),
    ("NW-03", "地面找平", "masonry", "m²", "35.00", "21.00"),
    ("NW-04", "过门石安装", "masonry", "块", "120.00", "70.00"),
    ("FS-01", "防水涂料两遍", "waterproofing", "m²", "85.00", "52.00"),
    ("MG-01", "石膏板吊顶", "carpentry", "m²", "168.00", "105.00"),
    ("MG-02", "衣柜柜体", "carpentry", "m²", "420.00", "260.00"),
    ("MG-03", "窗帘盒", "carpentry", "m", "95.00", "55.00"),
    ("MG-04", "电视背景墙造型", "carpentry", "项", "2800.00", "1750.00"),
    ("YQ-01", "墙面乳胶漆", "painting", "m²", "38.00", "17.77"),
    ("YQ-02", "顶面乳胶漆", "painting", "m²", "42.00", "19.50"),
    ("YQ-03", "墙面找平腻子", "painting", "m²", "28.00", "13.00"),
    ("AZ-01", "灯具安装", "installation", "盏", "45.00", "20.00"),
    ("AZ-02", "橱柜安装", "installation", "m", "180.00", "110.00"),
    ("AZ-03", "五金挂件安装", "installation", "套", "260.00", "150.00"),
    ("ZC-01", "实木复合地板", "main_materials", "m²", "268.00", "185.00"),
    ("ZC-02", "石英石台面", "main_materials", "m", "1280.00", "860.00"),
    ("ZC-03", "集成灶", "main_materials", "台", "6800.00", "5200.00"),
]
PRICES = {code: Decimal(price) for code, _name, _trade, _unit, price, _cost in LIBRARY}

# The quotation, room by room: (what is typed in the item field, the code it picks, quantity, line discount).
# "乳胶漆" matches two items by name; ↓ picks the second.
LIVING, BEDROOM, KITCHEN = "客厅", "主卧", "厨房"
LINES = {
    LIVING: [
        ("CQ-01", "CQ-01", "12.5", ""),
        ("SD-01", "SD-01", "86", ""),
        ("SD-02", "SD-02", "40", ""),
        ("SD-04", "SD-04", "18", ""),
        ("NW-03", "NW-03", "42", ""),
        ("NW-01", "NW-01", "42.6", ""),
        ("NW-04", "NW-04", "2", ""),
        ("MG-01", "MG-01", "18.2", ""),
        ("MG-03", "MG-03", "6.8", ""),
        ("MG-04", "MG-04", "1", "300"),
        ("YQ-03", "YQ-03", "96.4", ""),
        ("YQ-01", "YQ-01", "78.2", ""),
        ("乳胶漆", "YQ-02", "18.2", ""),
        ("AZ-01", "AZ-01", "8", ""),
    ],
    BEDROOM: [
        ("SD-01", "SD-01", "52", ""),
        ("SD-02", "SD-02", "18", ""),
        ("SD-04", "SD-04", "10", ""),
        ("NW-03", "NW-03", "16.8", ""),
        ("ZC-01", "ZC-01", "16.8", "200"),
        ("MG-02", "MG-02", "6.5", ""),
        ("MG-01", "MG-01", "8.4", ""),
        ("MG-03", "MG-03", "4.2", ""),
        ("YQ-03", "YQ-03", "58.6", ""),
        ("YQ-01", "YQ-01", "45.2", ""),
        ("YQ-02", "YQ-02", "16.8", ""),
        ("AZ-01", "AZ-01", "3", ""),
        ("NW-04", "NW-04", "1", ""),
    ],
    KITCHEN: [
        ("CQ-01", "CQ-01", "6.2", ""),
        ("CQ-02", "CQ-02", "2", ""),
        ("SD-03", "SD-03", "24.5", ""),
        ("SD-01", "SD-01", "30", ""),
        ("SD-04", "SD-04", "8", ""),
        ("FS-01", "FS-01", "18.6", ""),
        ("NW-02", "NW-02", "28.4", ""),
        ("NW-01", "NW-01", "9.8", ""),
        ("MG-01", "MG-01", "9.8", ""),
        ("AZ-02", "AZ-02", "4.6", ""),
        ("ZC-02", "ZC-02", "4.6", "500"),
        ("ZC-03", "ZC-03", "1", ""),
        ("AZ-03", "AZ-03", "1", ""),
    ],
}
FEES = {
    "management_fee_percent": "8",
    "design_fee": "3000",
    "transport_fee": "600",
    "tax_percent": "3",
    "discount": "3000",
    "discount_reason": "老客户介绍优惠",
}


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def expected_amounts() -> dict:
    """The version's amounts worked out here, by the rule the quotation states (contracts/services/pricing.py)."""
    rooms = {
        room: sum(cents(Decimal(qty) * PRICES[code]) - Decimal(off or "0") for _q, code, qty, off in lines)
        for room, lines in LINES.items()
    }
    subtotal = sum(rooms.values())
    line_discounts = sum(Decimal(off or "0") for lines in LINES.values() for *_rest, off in lines)
    management_fee = cents(subtotal * Decimal(FEES["management_fee_percent"]) / 100)
    before_tax = (
        subtotal
        + management_fee
        + Decimal(FEES["design_fee"])
        + Decimal(FEES["transport_fee"])
        - Decimal(FEES["discount"])
    )
    tax = cents(before_tax * Decimal(FEES["tax_percent"]) / 100)
    discounts = line_discounts + Decimal(FEES["discount"])
    return {
        "rooms": rooms,
        "subtotal": subtotal,
        "discount_share": discounts * 100 / (subtotal + line_discounts),
        "total": before_tax + tax,
    }


def yuan(amount: Decimal) -> str:
    """As the PDF and the finance pages write money: ¥12,345.67."""
    return f"¥{amount:,.2f}"


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


def staff_page(browser, live_server, username, *, phone=False):
    if phone:
        options = {"viewport": {"width": 375, "height": 800}, "is_mobile": True, "has_touch": True}
    else:
        options = {"viewport": {"width": 1280, "height": 900}}
    page = browser.new_page(locale="en-US", **options)
    page.set_extra_http_headers({"Accept-Language": "en"})
    log_in(page, live_server, username)
    return page


def fits(page, width):
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.fixture
def firm(transactional_db):
    firm = TenantFactory(
        name=FIRM,
        slug="jiangxin",
        address="杭州市西湖区文三路 100 号",
        time_zone="Asia/Shanghai",
    )
    staff = {
        "zhang": ("张经理", Role.ADMIN),
        "chenjing": ("陈静", Role.DESIGNER),
        "lina": ("李娜", Role.SALES),
        "zhou": ("周会计", Role.FINANCE),
    }
    for username, (name, role) in staff.items():
        MembershipFactory(user=UserFactory(username=username, name=name, language="en"), tenant=firm, role=role)
    with tenant_context(firm):
        for code, name, trade, unit, price, cost in LIBRARY:
            PriceItemFactory(
                code=code, name=name, trade=trade, unit=unit, unit_price=Decimal(price), cost_price=Decimal(cost)
            )
    sms.outbox.clear()
    yield firm
    sms.outbox.clear()


def the_designer():
    return User.objects.get(username="chenjing")


def test_a_measurement_shows_on_the_agenda_and_in_the_calendar_feed_and_search_finds_the_customer(
    browser, live_server, firm
):
    with tenant_context(firm):
        tomorrow = firm_today() + timedelta(days=1)
    designer = the_designer()

    # Sales takes the lead at the showroom, with no address yet, and books the designer's measurement.
    sales = staff_page(browser, live_server, "lina")
    sales.goto(f"{live_server.url}/leads/new/")
    sales.locator("[name=name]").fill("刘洋")
    sales.locator("[name=mobile]").fill("139 5729 6184")
    sales.locator("[name=channel]").select_option("showroom")
    go(sales, sales.get_by_role("button", name="Save"))
    expect(sales.locator("h1")).to_contain_text("刘洋")
    go(sales, sales.get_by_role("link", name="Book measurement"))
    sales.locator("[name=scheduled_at]").fill(f"{tomorrow.isoformat()}T10:00")
    sales.locator("[name=designer]").select_option(str(designer.pk))
    # Where to measure: the lead has no address, so the booking asks for it.
    expect(sales.get_by_test_id("home-fields")).to_be_visible()
    sales.locator("[name=province]").fill("浙江省")
    sales.locator("[name=city]").fill("杭州市")
    sales.locator("[name=district]").fill("西湖区")
    sales.locator("[name=street]").fill("文三路 188 号")
    sales.locator("[name=compound]").fill("翠苑小区")
    sales.locator("[name=building_unit_room]").fill("3-1-602")
    sales.locator("[name=area]").fill("118.5")
    go(sales, sales.get_by_role("button", name="Save"))
    expect(sales.get_by_test_id("sales-documents")).to_contain_text("陈静")
    with tenant_context(firm):
        appointment = MeasurementAppointment.objects.select_related("lead__property").get()
        assert "文三路" in appointment.lead.property.address

    # The designer's agenda: nothing today, the measurement on the next day at 10:00, at the address.
    desk = staff_page(browser, live_server, "chenjing")
    desk.goto(f"{live_server.url}/agenda/")
    go(desk, desk.get_by_test_id("agenda-next"))
    day = desk.locator(f"[data-testid=agenda-day][data-day='{tomorrow.isoformat()}']")
    item = day.locator("[data-testid=agenda-item][data-kind=measurement]")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("10:00")
    expect(item).to_contain_text("Measurement: 刘洋")
    expect(item.locator(".agenda-item__place")).to_contain_text("文三路 188 号")
    expect(desk.get_by_test_id("agenda-count")).to_have_text("1 item")
    desk.screenshot(path=SCREENSHOTS / "workbench-agenda.png", full_page=True)
    phone = staff_page(browser, live_server, "chenjing", phone=True)
    phone.goto(f"{live_server.url}/agenda/?day={tomorrow.isoformat()}")
    expect(phone.get_by_test_id("agenda-item")).to_contain_text("Measurement: 刘洋")
    fits(phone, 375)
    phone.screenshot(path=SCREENSHOTS / "workbench-agenda-phone.png", full_page=True)

    # The calendar feed, made on the profile page and fetched as a calendar app does (no session).
    desk.goto(f"{live_server.url}/accounts/profile/")
    go(desk, desk.get_by_test_id("calendar-feed-new"))
    feed_url = desk.get_by_test_id("calendar-feed-url").input_value()
    with urllib.request.urlopen(live_server.url + urlsplit(feed_url).path) as response:  # noqa: S310 - the live server
        assert response.headers["Content-Type"].startswith("text/calendar")
        feed = icalendar.Calendar.from_ical(response.read())
    events = feed.walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert str(event["summary"]) == "Measurement: 刘洋"
    assert event.decoded("dtstart") == datetime.combine(tomorrow, time(10), tzinfo=firm.zone)
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(hours=1)
    assert "文三路 188 号" in str(event["location"])
    assert str(event["uid"]).startswith(f"measurement-{appointment.pk}.")

    # The header's search: the last four digits of the mobile find the customer as one types.
    desk.goto(f"{live_server.url}/")
    desk.get_by_test_id("header-search").locator("input[name=q]").press_sequentially("6184", delay=40)
    customers = desk.locator("#header-search-results [data-testid=search-group-customers]")
    expect(customers).to_contain_text("刘洋")
    expect(customers).to_contain_text("13957296184")
    desk.screenshot(path=SCREENSHOTS / "workbench-search.png")
    go(desk, customers.locator("a.search-hit").first)
    expect(desk.locator("h1")).to_contain_text("刘洋")
    assert desk.url.endswith(f"/leads/customers/{appointment.lead.customer_id}/")


def add_line(page, n, query, code, quantity, discount="", *, room=""):
    """The blank row n: the room when it changes, the item picked from the type-ahead, the quantity (and a
    discount), and Enter, which saves it without a page load and puts the cursor on the next blank row."""
    if room:
        page.locator(f"[name=items-{n}-room]").fill(room)
    name = page.locator(f"[name=items-{n}-name]")
    name.click()
    options = page.locator(f"#items-{n}-suggest li")
    if query == code:
        name.press_sequentially(query, delay=20)
        expect(options).to_have_count(1)
        pick = 0
    else:
        # One input event, so one request: a late answer to a shorter query would reset the highlight.
        name.fill(query)
        expect(options).to_have_count(2)
        name.press("ArrowDown")
        pick = 1
    expect(options.nth(pick)).to_have_attribute("aria-selected", "true")
    expect(options.nth(pick)).to_contain_text(code)
    name.press("Enter")
    expect(page.locator(f"[name=items-{n}-quantity]")).to_be_focused()
    expect(page.locator(f"[name=items-{n}-code]")).to_have_value(code)
    expect(page.locator(f"[name=items-{n}-unit_price]")).to_have_value(str(PRICES[code]))
    page.keyboard.type(quantity)
    if discount:
        page.locator(f"[name=items-{n}-discount]").fill(discount)
    page.keyboard.press("Enter")
    expect(page.locator(f"[name=items-{n + 1}-name]")).to_be_focused(timeout=SLOW)


def test_a_forty_line_quotation_is_approved_printed_sent_signed_on_a_phone_and_its_instalment_aged(
    browser, live_server, firm
):
    amounts = expected_amounts()
    assert amounts["discount_share"] > 5  # over the firm's default threshold: a manager approves
    designer = the_designer()
    with tenant_context(firm):
        customer = CustomerFactory(name="王芳", mobile="13812347788")
        lead = LeadFactory(
            customer=customer, designer=designer, property=PropertyFactory(customer=customer, area=Decimal("96"))
        )

    # The designer starts a quotation from the lead's page and builds it line by line from the library.
    page = staff_page(browser, live_server, "chenjing")
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    go(page, page.get_by_role("link", name="New quotation"))
    page.locator("[name=title]").fill("全屋翻新报价")
    go(page, page.get_by_role("button", name="Save"))
    version_url = page.url
    page.evaluate("window.loadedOnce = true")  # gone if the page reloads
    n = 0
    for room, lines in LINES.items():
        for index, (query, code, quantity, discount) in enumerate(lines):
            add_line(page, n, query, code, quantity, discount, room=room if index == 0 else "")
            n += 1
    assert page.evaluate("window.loadedOnce") is True
    expect(page.locator("[data-testid=line]")).to_have_count(40)
    rooms = page.locator("#quotation-editor [data-testid=room]")
    expect(rooms).to_have_count(3)
    for position, room in enumerate(LINES):
        expect(rooms.nth(position).locator(".q-room th")).to_have_text(room)
        expect(rooms.nth(position).get_by_test_id("room-subtotal")).to_have_text(f"¥{amounts['rooms'][room]}")
    expect(page.get_by_test_id("totals-subtotal")).to_have_text(f"¥{amounts['subtotal']}")

    # Fees, tax and a discount on the total, saved with the lines.
    for field, value in FEES.items():
        page.locator(f"[name=fees-{field}]").fill(value)
    page.get_by_role("button", name="Save line items").click()
    expect(page.get_by_test_id("totals-total")).to_have_text(f"¥{amounts['total']}", timeout=SLOW)
    expect(page.get_by_test_id("version-total")).to_have_text(f"¥{amounts['total']}")
    assert page.evaluate("window.loadedOnce") is True
    # Over the firm's 5 %: the author may not send it, nor approve it.
    approval = page.get_by_test_id("discount-approval")
    expect(approval).to_contain_text("over the firm's 5%")
    expect(approval.get_by_role("button")).to_have_count(0)
    expect(page.locator("#version-send-box button[type=submit]")).to_be_disabled()
    page.screenshot(path=SCREENSHOTS / "workbench-quotation-40-lines.png", full_page=True)
    go(page, page.get_by_role("button", name="Send the link by SMS / e-mail"))
    expect(page.locator(".message--error")).to_contain_text("Not sent")
    expect(page.get_by_test_id("version-status")).to_have_text("Draft")
    assert sms.outbox == []

    # A firm admin approves the discount.
    manager = staff_page(browser, live_server, "zhang")
    manager.goto(version_url)
    go(manager, manager.get_by_test_id("discount-approval").get_by_role("button", name="Approve the discount"))
    expect(manager.get_by_test_id("discount-approved")).to_contain_text("张经理")
    manager.screenshot(path=SCREENSHOTS / "workbench-discount-approved.png")

    # The designer prints the PDF: the letterhead, the Chinese lines, a room's subtotal and the total the page
    # showed, to the cent.
    page.goto(version_url)
    expect(page.get_by_test_id("discount-approved")).to_be_visible()
    expect(page.locator("#version-send-box button[type=submit]")).to_be_enabled()
    shown_total = page.get_by_test_id("version-total").inner_text()
    living = page.locator("#quotation-editor [data-testid=room]").first.get_by_test_id("room-subtotal").inner_text()
    draft_pdf = page.request.get(live_server.url + page.get_by_test_id("version-pdf").get_attribute("href"))
    assert draft_pdf.ok and draft_pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(draft_pdf.body())
    assert FIRM in text
    assert "墙面乳胶漆" in text and "电视背景墙造型" in text and "集成灶" in text
    assert LIVING in text and yuan(Decimal(living.lstrip("¥"))) in text
    assert shown_total == f"¥{amounts['total']}" and yuan(amounts["total"]) in text

    # Sent by SMS to the customer's mobile: the version is frozen, the message carries the homeowner's link.
    send = page.get_by_test_id("send-to-customer")
    expect(send.locator("[name=mobile]")).to_have_value("13812347788")
    go(page, send.get_by_role("button", name="Send the link by SMS / e-mail"))
    expect(page.get_by_test_id("version-status")).to_have_text("Sent")
    expect(page.get_by_test_id("deliveries")).to_contain_text("138****7788")
    assert [message.recipient for message in sms.outbox] == ["13812347788"]
    link = page.get_by_test_id("homeowner-link").input_value()
    assert link.startswith(f"{live_server.url}/contracts/accept/") and link in sms.outbox[0].body
    assert f"{amounts['total']:,.2f}" in sms.outbox[0].body
    with tenant_context(firm):
        assert Notification.objects.get().status == Notification.Status.SENT

    # The homeowner opens the link on a phone, signs with a finger and accepts.
    phone = browser.new_context(
        locale="zh-CN", viewport={"width": 375, "height": 800}, is_mobile=True, has_touch=True
    ).new_page()
    phone.goto(link)
    expect(phone.get_by_test_id("items")).to_contain_text("石英石台面")
    expect(phone.get_by_test_id("totals-total")).to_have_text(f"¥{amounts['total']}")
    fits(phone, 375)
    phone.get_by_test_id("signature-pad").scroll_into_view_if_needed()
    pad = phone.get_by_test_id("signature-pad").bounding_box()
    phone.mouse.move(pad["x"] + 20, pad["y"] + 30)
    phone.mouse.down()
    for step in range(1, 12):
        phone.mouse.move(pad["x"] + 20 + step * 25, pad["y"] + 30 + (step % 3) * 15)
    phone.mouse.up()
    phone.locator("[name=agree]").check()
    phone.screenshot(path=SCREENSHOTS / "workbench-homeowner-sign-phone.png", full_page=True)
    go(phone, phone.locator("form[data-signature-form] button[type=submit]"))
    expect(phone.get_by_test_id("accepted")).to_contain_text(f"¥{amounts['total']}")
    shown_hash = phone.get_by_test_id("signed-sha256").inner_text()
    fits(phone, 375)
    phone.screenshot(path=SCREENSHOTS / "workbench-homeowner-accepted-phone.png", full_page=True)
    with tenant_context(firm):
        version = QuotationVersion.objects.get(quotation__lead=lead)
        copy = SignedDocument.objects.get(quotation_version=version)
        stored = documents.signed_document_bytes(copy)
    assert shown_hash == copy.sha256 == hashlib.sha256(stored).hexdigest()
    homeowner_pdf = phone.request.get(
        live_server.url + phone.get_by_test_id("homeowner-pdf").get_attribute("href")
    ).body()
    assert hashlib.sha256(homeowner_pdf).hexdigest() == shown_hash

    # Back at the desk: the same hash on the version page and of its signed download; the contract is signed.
    page.goto(version_url)
    expect(page.get_by_test_id("version-status")).to_have_text("Accepted")
    expect(page.get_by_test_id("signed-sha256")).to_have_text(shown_hash)
    expect(page.get_by_test_id("version-pdf")).to_have_text("Download the signed PDF")
    staff_pdf = page.request.get(live_server.url + page.get_by_test_id("version-pdf").get_attribute("href")).body()
    assert hashlib.sha256(staff_pdf).hexdigest() == shown_hash
    assert "王芳" in pdf_text(staff_pdf)
    page.screenshot(path=SCREENSHOTS / "workbench-version-signed.png", full_page=True)
    with tenant_context(firm):
        today = firm_today()
    go(page, page.get_by_role("link", name="Sign the contract"))
    page.locator("[name=package_type]").select_option("full")
    page.locator("[name=planned_start]").fill((today + timedelta(days=14)).isoformat())
    page.locator("[name=planned_end]").fill((today + timedelta(days=104)).isoformat())
    go(page, page.get_by_role("button", name="Sign the contract"))
    expect(page.get_by_test_id("contract-amount")).to_have_text(f"¥{amounts['total']}")
    expect(page.get_by_test_id("instalments").locator("tbody tr")).to_have_count(3)

    # Setup: the deposit was due 45 days ago and is still not paid.
    with tenant_context(firm):
        contract = Contract.objects.get()
        deposit = Instalment.objects.filter(contract=contract).order_by("sequence").first()
        deposit.due_on = today - timedelta(days=45)
        deposit.save(update_fields=["due_on"])

    # Finance: the dashboard card counts it overdue and links to the receivables, where it is 31–60 days old.
    finance = staff_page(browser, live_server, "zhou")
    card = finance.get_by_test_id("card-instalments")
    expect(card.get_by_test_id("figure-instalments-overdue")).to_contain_text("1")
    expect(card.get_by_test_id("more-instalments")).to_have_attribute("href", "/receivables/")
    go(finance, card.get_by_test_id("figure-instalments-overdue"))
    assert urlsplit(finance.url).path == "/receivables/" and "bucket=overdue" in finance.url
    bucket = finance.get_by_test_id("bucket-31-60")
    expect(bucket).to_contain_text(yuan(deposit.amount))
    expect(bucket).to_contain_text("1 instalment")
    expect(finance.get_by_test_id("bucket-0-30")).to_contain_text("0 instalments")
    go(finance, bucket)
    expect(bucket).to_have_attribute("aria-current", "true")
    row = finance.locator(f"[data-testid=row][data-instalment='{deposit.pk}']")
    expect(row).to_contain_text(contract.number)
    expect(row).to_contain_text("31–60 days overdue")
    expect(row).to_contain_text("(45 days)")
    expect(row).to_contain_text(yuan(deposit.amount))
    expect(finance.get_by_test_id("rows").locator("tbody tr")).to_have_count(1)
    finance.screenshot(path=SCREENSHOTS / "workbench-receivables.png", full_page=True)
    finance_phone = staff_page(browser, live_server, "zhou", phone=True)
    finance_phone.goto(f"{live_server.url}/receivables/?bucket=31-60")
    expect(finance_phone.locator(f"[data-testid=row][data-instalment='{deposit.pk}']")).to_contain_text("(45 days)")
    fits(finance_phone, 375)
    finance_phone.screenshot(path=SCREENSHOTS / "workbench-receivables-phone.png", full_page=True)
