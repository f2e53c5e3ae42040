import pytest
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django.views import View

from renocrm.accounts.access import FirmPermissionMixin, permission_required
from renocrm.accounts.roles import Role
from renocrm.dashboard.nav import NavEntry, nav_items
from tests.factories import MembershipFactory

pytestmark = pytest.mark.usefixtures("english")


@permission_required("audit.view")
def audit_only(request):
    return HttpResponse("ok")


class LeadsOnly(FirmPermissionMixin, View):
    permission = "leads.view"

    def get(self, request):
        return HttpResponse("ok")


def page_request(user, membership):
    request = RequestFactory().get("/somewhere/")
    request.user = user
    request.membership = membership
    request.session = {}
    return request


@pytest.mark.parametrize(("role", "allowed"), [(Role.ADMIN, True), (Role.SALES, False), (Role.FINANCE, False)])
def test_decorator_decides_by_the_role_map(firm_a, role, allowed):
    membership = MembershipFactory(tenant=firm_a, role=role)
    request = page_request(membership.user, membership)

    if allowed:
        assert audit_only(request).content == b"ok"
    else:
        with pytest.raises(PermissionDenied):
            audit_only(request)


@pytest.mark.parametrize(("role", "allowed"), [(Role.SALES, True), (Role.CUSTOMER_SERVICE, True), (Role.QC, False)])
def test_mixin_decides_by_the_role_map(firm_a, role, allowed):
    membership = MembershipFactory(tenant=firm_a, role=role)
    request = page_request(membership.user, membership)

    if allowed:
        assert LeadsOnly.as_view()(request).content == b"ok"
    else:
        with pytest.raises(PermissionDenied):
            LeadsOnly.as_view()(request)


def test_inactive_membership_has_no_permission(firm_a):
    membership = MembershipFactory(tenant=firm_a, role=Role.ADMIN, is_active=False)

    with pytest.raises(PermissionDenied):
        audit_only(page_request(membership.user, membership))


def test_no_firm_is_a_403_no_firm_page(firm_a):
    membership = MembershipFactory(tenant=firm_a, role=Role.ADMIN)

    response = LeadsOnly.as_view()(page_request(membership.user, None))

    assert response.status_code == 403
    assert "You are not a member of any firm" in response.content.decode()


def test_anonymous_is_sent_to_login(db):
    from django.contrib.auth.models import AnonymousUser

    response = audit_only(page_request(AnonymousUser(), None))

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login") + "?next=/somewhere/"


def test_a_view_naming_no_permission_is_refused(firm_a):
    class Unnamed(FirmPermissionMixin, View):
        def get(self, request):
            return HttpResponse("ok")

    membership = MembershipFactory(tenant=firm_a, role=Role.ADMIN)
    with pytest.raises(ImproperlyConfigured):
        Unnamed.as_view()(page_request(membership.user, membership))


def test_nav_hides_what_the_role_may_not_see_and_marks_missing_pages(firm_a):
    entries = (
        NavEntry("home", "Home", "dashboard:home", "dashboard.view"),
        NavEntry("audit", "Audit", "audit:list", "audit.view", stage=False),
        NavEntry("later", "Later", "not_an_app:list", "leads.view"),
    )
    sales = MembershipFactory(tenant=firm_a, role=Role.SALES)
    admin = MembershipFactory(tenant=firm_a, role=Role.ADMIN)

    sales_items = {item.entry.key: item for item in nav_items(sales, path="/audit/", entries=entries)}
    admin_items = {item.entry.key: item for item in nav_items(admin, path="/audit/", entries=entries)}

    assert set(sales_items) == {"home", "later"}
    assert sales_items["later"].url is None and not sales_items["later"].available
    assert admin_items["audit"].url == reverse("audit:list") and admin_items["audit"].active
    assert nav_items(None) == []


def test_header_navigation_follows_the_role(client, admin_a, sales_a):
    audit_link = f'href="{reverse("audit:list")}"'
    client.force_login(sales_a)
    sales_page = client.get(reverse("dashboard:home")).content.decode()
    client.force_login(admin_a)
    admin_page = client.get(reverse("dashboard:home")).content.decode()

    assert audit_link not in sales_page
    assert audit_link in admin_page
    # A lifecycle page with no URL yet is listed as text, not as a broken link.
    assert "Callbacks" not in sales_page  # customer managers do not see callbacks
    assert "Callbacks" in admin_page
