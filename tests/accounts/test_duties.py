"""The firm's duty map: which roles record payments, see the receivables and costs, approve discounts and large
change orders, re-check rectification items and keep the library. Safe defaults; a firm admin changes them on
Settings → Staff → Duties or over the API; an admin always keeps each duty; and whoever holds one still never
approves their own work. Each through the service, the page and the API."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils.translation import override

from contracts.models import ContractSettings
from contracts.services import change_orders, payments, quotations
from renocrm.accounts import services
from renocrm.accounts.models import StaffChange
from renocrm.tenancy.context import require_current_tenant, tenant_context
from renocrm.tenancy.models import Tenant
from tests.contracts.test_pricing import draft, line
from tests.contracts.test_services import change, signed_contract
from tests.factories import ApiKeyFactory, MembershipFactory
from tests.worksites.test_handover_services import fail_check, open_worksite
from worksites.models import RectificationItem
from worksites.services import handover

pytestmark = pytest.mark.usefixtures("english")

DEFAULTS = {
    "payments.manage": ["admin", "finance"],
    "receivables.view": ["admin", "finance"],
    "costs.view": ["admin", "finance"],
    "discounts.approve": ["admin"],
    "change_orders.approve": ["admin"],
    "rectifications.recheck": ["admin", "qc"],
    "library.manage": ["admin"],
}


def staff(firm, role, **user):
    return MembershipFactory(tenant=firm, role=role, **{f"user__{k}": v for k, v in user.items()}).user


def holders() -> dict[str, list[str]]:
    """The current firm's map as stored now (a page or API request changed the row, not this test's object)."""
    require_current_tenant().refresh_from_db(fields=["duties"])
    return {duty: roles for duty, _label, roles, _defaults in services.firm_duties()}


@pytest.fixture
def firm(firm_a):
    with tenant_context(firm_a):
        yield firm_a


# The service ------------------------------------------------------------------------------------------------


def test_every_firm_starts_from_the_safe_defaults(firm):
    assert holders() == DEFAULTS
    assert [defaults for _duty, _label, _roles, defaults in services.firm_duties()] == list(DEFAULTS.values())


def test_payments_given_to_customer_service_and_taken_from_finance(firm):
    admin, finance, agent = staff(firm, "admin"), staff(firm, "finance"), staff(firm, "customer_service")
    services.firm_duties_set(duties={"payments.manage": ["customer_service"]}, by=admin)
    assert holders()["payments.manage"] == ["admin", "customer_service"]

    deposit, final = signed_contract().instalments.order_by("pk")[:2]
    with override("en"), pytest.raises(ValidationError) as refused:
        payments.instalment_record_payment(instalment=deposit, paid_on=date(2026, 11, 25), by=finance)
    assert "recorded_by" in refused.value.message_dict
    payments.instalment_record_payment(instalment=deposit, paid_on=date(2026, 11, 25), by=agent)
    deposit.refresh_from_db()
    assert deposit.recorded_by == agent
    # An admin keeps the duty though the firm did not name admins.
    payments.instalment_record_payment(instalment=final, paid_on=date(2026, 11, 26), by=admin)


def test_an_admin_always_keeps_a_duty_and_a_default_choice_is_not_stored(firm):
    admin = staff(firm, "admin")
    services.firm_duties_set(duties={"rectifications.recheck": [], "costs.view": ["finance", "sales"]}, by=admin)
    assert holders()["rectifications.recheck"] == ["admin"]
    assert Tenant.objects.get(pk=firm.pk).duties == {
        "rectifications.recheck": ["admin"],
        "costs.view": ["admin", "sales", "finance"],
    }
    services.firm_duties_set(duties={"rectifications.recheck": ["qc", "admin"]}, by=admin)
    assert Tenant.objects.get(pk=firm.pk).duties == {"costs.view": ["admin", "sales", "finance"]}
    assert holders()["rectifications.recheck"] == ["admin", "qc"]


def test_each_change_is_in_the_staff_history_and_nothing_is_recorded_for_no_change(firm):
    admin = staff(firm, "admin", name="Wang Fang")
    services.firm_duties_set(duties={"discounts.approve": ["sales"], "library.manage": ["admin"]}, by=admin)
    services.firm_duties_set(duties={"discounts.approve": ["sales"]}, by=admin)
    change = StaffChange.objects.get()
    assert (change.action, change.by, change.details) == (
        "duties_changed",
        admin,
        {"duties": {"discounts.approve": [["admin"], ["admin", "sales"]]}},
    )
    assert change.duty_changes() == [
        (
            "Approve quotation discounts over the firm's threshold",
            "Firm admin / general manager",
            "Firm admin / general manager、Customer manager",
        )
    ]


def test_unknown_duties_and_roles_and_a_partner_key_are_refused_and_change_nothing(firm):
    admin = staff(firm, "admin")
    with override("en"), pytest.raises(ValidationError) as refused:
        services.firm_duties_set(
            duties={"firm.manage": ["sales"], "payments.manage": ["owner"], "costs.view": "finance"}, by=admin
        )
    assert refused.value.message_dict == {
        "firm.manage": ["Not a duty a firm can give: firm.manage."],
        "payments.manage": [
            "Give a list of roles from: admin, sales, designer, project_manager, qc, customer_service, finance."
        ],
        "costs.view": [
            "Give a list of roles from: admin, sales, designer, project_manager, qc, customer_service, finance."
        ],
    }
    with override("en"), pytest.raises(ValidationError) as refused:
        services.firm_duties_set(duties={"payments.manage": ["sales"]}, by=None)
    assert refused.value.message_dict == {
        "duties": ["A firm's duties are changed by a signed-in firm admin, not an API key."]
    }
    assert holders() == DEFAULTS and not StaffChange.objects.exists()


def test_the_map_is_the_firms_own(firm_a, firm_b):
    with tenant_context(firm_a):
        services.firm_duties_set(duties={"payments.manage": ["sales"]}, by=staff(firm_a, "admin"))
    with tenant_context(firm_b):
        assert holders() == DEFAULTS
        seller = staff(firm_b, "sales")
        deposit = signed_contract().instalments.first()
        with pytest.raises(ValidationError):
            payments.instalment_record_payment(instalment=deposit, paid_on=date(2026, 11, 25), by=seller)


# Whoever holds a duty still does not approve their own work --------------------------------------------------


def test_a_recheck_given_to_designers_still_refuses_the_owner_and_whoever_fixed_it(firm):
    admin = staff(firm, "admin")
    services.firm_duties_set(duties={"rectifications.recheck": ["designer"]}, by=admin)
    worksite = open_worksite()
    qc, owner, fixer, other = (
        staff(firm, "qc"),
        staff(firm, "designer"),
        staff(firm, "designer"),
        staff(firm, "designer"),
    )
    started = handover.handover_start(worksite=worksite, started_by=admin)
    fail_check(started.items.first(), qc, "Grout the shower tray", owner=owner)
    item = RectificationItem.objects.get()
    handover.rectification_item_mark_fixed(item=item, by=fixer)
    for user, why in ((owner, "runs this work"), (fixer, "runs this work"), (qc, "QC inspector re-checks")):
        with override("en"), pytest.raises(ValidationError) as refused:
            handover.rectification_item_recheck(item=item, passed=True, rechecked_by=user)
        assert why in refused.value.message_dict["rechecked_by"][0], user
    handover.rectification_item_recheck(item=item, passed=True, rechecked_by=other)
    assert RectificationItem.objects.get(pk=item.pk).rechecked_by == other


def test_large_change_orders_given_to_sales_are_still_not_their_authors(firm):
    ContractSettings.objects.update_or_create(defaults={"change_order_threshold_percent": Decimal("100")})
    admin, author, seller = staff(firm, "admin"), staff(firm, "sales"), staff(firm, "sales")
    contract = signed_contract()
    order = change_orders.change_order_create(
        contract=contract, reason="kitchen", lines=[change("addition", 1100)], by=author
    )
    with pytest.raises(ValidationError):
        change_orders.change_order_approve(order=order, by=seller)  # not yet the firm's choice
    services.firm_duties_set(duties={"change_orders.approve": ["sales"]}, by=admin)
    with override("en"), pytest.raises(ValidationError) as refused:
        change_orders.change_order_approve(order=order, by=author)
    assert "You wrote this change order" in refused.value.message_dict["decided_by"][0]
    assert change_orders.change_order_approve(order=order, by=seller).decided_by == seller


def test_discount_approval_given_to_designers_is_not_the_author_s(firm):
    admin, author, checker = staff(firm, "admin"), staff(firm, "designer"), staff(firm, "designer")
    version = draft([line("", "painting", "a", "1", "1000", discount="100")], by=author)
    with pytest.raises(ValidationError):
        quotations.quotation_version_approve_discount(version=version, by=checker)
    services.firm_duties_set(duties={"discounts.approve": ["designer"]}, by=admin)
    with pytest.raises(ValidationError):
        quotations.quotation_version_approve_discount(version=version, by=author)
    assert quotations.quotation_version_approve_discount(version=version, by=checker).discount_approved_by == checker


# The page ---------------------------------------------------------------------------------------------------


def test_an_admin_changes_the_map_on_the_page_and_it_applies_on_the_next_page(client, firm_a):
    with tenant_context(firm_a):
        admin = staff(firm_a, "admin", name="Wang Fang")
        agent = staff(firm_a, "customer_service")
    client.force_login(admin)
    page = client.get("/settings/staff/duties/")
    body = page.content.decode()
    assert page.status_code == 200 and 'data-testid="duties-form"' in body
    assert "Record payments as received" in body and "Default: Firm admin / general manager、Finance" in body
    assert "/settings/staff/duties/" in client.get("/settings/").content.decode()

    agent_client = Client()
    agent_client.force_login(agent)
    assert agent_client.get("/receivables/").status_code == 403
    posted = client.post(
        "/settings/staff/duties/",
        {"payments__manage": ["finance", "customer_service"], "receivables__view": ["finance", "customer_service"]},
        follow=True,
    )
    assert "Duties saved" in posted.content.decode()
    assert "See the receivables and the payment register: Firm admin / general manager、Finance → " in (
        posted.content.decode()
    )
    # A duty whose boxes were all cleared on the page holds only admins now.
    with tenant_context(firm_a):
        assert holders()["costs.view"] == ["admin"] and holders()["payments.manage"] == [
            "admin",
            "customer_service",
            "finance",
        ]
    assert agent_client.get("/receivables/").status_code == 200


def test_an_unknown_role_on_the_page_is_a_field_error_and_saves_nothing(client, firm_a):
    with tenant_context(firm_a):
        client.force_login(staff(firm_a, "admin"))
    refused = client.post("/settings/staff/duties/", {"payments__manage": ["finance", "owner"]})
    assert refused.status_code == 400
    assert "owner is not one of the available choices" in str(refused.context["form"].errors["payments__manage"])
    with tenant_context(firm_a):
        assert holders() == DEFAULTS


@pytest.mark.parametrize(("role", "reads"), [("finance", 403), ("sales", 403), ("admin", 200)])
def test_only_admins_see_and_change_the_map(client, firm_a, role, reads):
    with tenant_context(firm_a):
        client.force_login(staff(firm_a, role))
    assert client.get("/settings/staff/duties/").status_code == reads
    refused = client.post("/settings/staff/duties/", {"payments__manage": ["sales"]})
    assert refused.status_code in (302, 403)
    if role != "admin":
        with tenant_context(firm_a):
            assert holders() == DEFAULTS


# The API ----------------------------------------------------------------------------------------------------


def key_headers(firm, scopes):
    with tenant_context(firm):
        key = ApiKeyFactory(scopes=scopes)
    return {"HTTP_AUTHORIZATION": f"Api-Key {key.raw_key}"}


def patch(client, body, **headers):
    return client.patch("/api/v1/duties/", body, content_type="application/json", **headers)


def test_the_api_reads_the_map_with_firm_read_and_refuses_a_key_s_change(client, firm_a, firm_b):
    reader = key_headers(firm_a, ["firm:read"])
    listed = client.get("/api/v1/duties/", **reader)
    assert listed.status_code == 200
    assert {row["duty"]: row["roles"] for row in listed.json()} == DEFAULTS
    assert listed.json()[0] == {
        "duty": "payments.manage",
        "label": "Record payments as received",
        "roles": ["admin", "finance"],
        "default_roles": ["admin", "finance"],
    }
    assert client.get("/api/v1/duties/", **key_headers(firm_a, ["contracts:read"])).status_code == 403
    assert patch(client, {"duties": {"payments.manage": ["sales"]}}, **reader).status_code == 403
    writer = key_headers(firm_a, ["firm:read", "firm:write"])
    refused = patch(client, {"duties": {"payments.manage": ["sales"]}}, **writer)
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"]["duties"] == [
        "A firm's duties are changed by a signed-in firm admin, not an API key."
    ]
    with tenant_context(firm_a):
        assert holders() == DEFAULTS
    # Last: DRF marks the test's transaction for rollback on a refusal made outside any firm.
    assert client.get("/api/v1/duties/").status_code == 401


def test_a_signed_in_admin_changes_the_map_over_the_api_for_their_firm_only(client, firm_a, firm_b):
    with tenant_context(firm_a):
        client.force_login(staff(firm_a, "admin"))
    bad = patch(client, {"duties": {"payments.manage": ["owner"], "firm.manage": ["sales"]}})
    assert bad.status_code == 400 and set(bad.json()["error"]["fields"]["duties"]) == {"payments.manage"}
    bad = patch(client, {"duties": {"firm.manage": ["sales"]}})
    assert bad.status_code == 400
    assert bad.json()["error"]["fields"] == {"firm.manage": ["Not a duty a firm can give: firm.manage."]}
    assert patch(client, {"duties": {}}).status_code == 400
    done = patch(client, {"duties": {"payments.manage": ["customer_service"]}})
    assert done.status_code == 200 and done.json()[0]["roles"] == ["admin", "customer_service"]
    with tenant_context(firm_b):
        assert holders() == DEFAULTS
    seller = Client()
    with tenant_context(firm_a):
        seller.force_login(staff(firm_a, "sales"))
    assert patch(seller, {"duties": {"payments.manage": ["sales"]}}).status_code == 403
    with tenant_context(firm_a):
        assert holders()["payments.manage"] == ["admin", "customer_service"]


def test_the_map_costs_the_same_queries_however_many_staff_and_changes(client, firm_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    reader = key_headers(firm_a, ["firm:read"])

    def counted() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/duties/", **reader).status_code == 200
        return len(queries)

    counted()  # the first request of a key also looks it up before the firm is known
    small = counted()
    with tenant_context(firm_a):
        admin = staff(firm_a, "admin")
        for number in range(20):
            staff(firm_a, "finance" if number % 2 else "customer_service")
        services.firm_duties_set(duties={"payments.manage": ["customer_service"]}, by=admin)
        services.firm_duties_set(duties={"costs.view": ["sales"]}, by=admin)
    assert counted() == small <= 6
