"""The settings hub and the firm's profile: who sees which settings, editing the profile with every mistake
shown at once, the logo on the homeowner portal and a letterhead, the change in the firm's audit trail, and
one firm's admin never reaching another's profile."""

from datetime import time
from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from renocrm.accounts.roles import Role
from renocrm.audit.models import AuditEvent
from renocrm.tenancy import services, settings_pages
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.models import Tenant
from renocrm.tenancy.settings_pages import PAGES, SettingsPage, register, settings_groups
from tests.aftercare.factories import WarrantyCardFactory
from tests.factories import MembershipFactory
from tests.worksites.factories import WorksiteFactory
from worksites.services import portal

SETTINGS, PROFILE = reverse("tenancy:settings"), reverse("tenancy:firm-profile")


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


def signed_in(firm, role=Role.ADMIN) -> Client:
    client = Client()
    membership = MembershipFactory(tenant=firm, role=role)
    client.force_login(membership.user)
    client.membership = membership
    return client


def png(size=(120, 60), colour="navy") -> bytes:
    out = BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def profile_data(firm, **changes) -> dict:
    data = {
        "name": firm.name,
        "short_name": firm.short_name,
        "phone": firm.phone,
        "address": firm.address,
        "business_licence_number": firm.business_licence_number,
        "time_zone": firm.time_zone,
        "language": firm.language,
        "working_hours_start": "09:00",
        "working_hours_end": "18:00",
    }
    return {**data, **changes}


# The settings hub ----------------------------------------------------------------------------------------------


def test_the_hub_lists_the_firms_settings_pages_by_group(firm_a):
    response = signed_in(firm_a).get(SETTINGS)

    assert response.status_code == 200
    page = response.content.decode()
    for url_name in (
        "tenancy:firm-profile",
        "worksites:template",
        "worksites:acceptance-template",
        "worksites:construction-settings",
        "aftercare:rules",
        "aftercare:settings",
        "callbacks:plan",
        "callbacks:settings",
        "complaints:settings",
        "integrations:keys",
        "integrations:webhooks",
        "privacy:home",
    ):
        assert f'href="{reverse(url_name)}"' in page, url_name
    assert page.index("Firm profile") < page.index("Phase template") < page.index("Callback plan")


def test_the_hub_is_for_those_who_may_see_the_firms_settings(firm_a, client):
    assert signed_in(firm_a, Role.DESIGNER).get(SETTINGS).status_code == 403
    assert client.get(SETTINGS).status_code == 302  # to the login page


def test_a_member_sees_only_the_entries_their_roles_allow(firm_a):
    agent = MembershipFactory(tenant=firm_a, role=Role.CUSTOMER_SERVICE)
    admin = MembershipFactory(tenant=firm_a, role=Role.ADMIN)

    def names(membership):
        return {link.page.url_name for group in settings_groups(membership) for link in group.links}

    seen = names(agent)
    assert {"aftercare:settings", "callbacks:plan", "complaints:settings"} <= seen
    assert not seen & {"tenancy:firm-profile", "integrations:keys", "privacy:home"}
    assert "tenancy:firm-profile" in names(admin)
    assert {group.key for group in settings_groups(agent)} == {"construction", "aftercare"}
    assert settings_groups(None) == []


def test_an_entry_whose_page_does_not_exist_is_left_out_and_empty_groups_too(firm_a):
    admin = MembershipFactory(tenant=firm_a, role=Role.ADMIN)
    pages = [
        SettingsPage("notices", "Not built yet", "nowhere:settings", "firm.view"),
        SettingsPage("firm", "Profile", "tenancy:firm-profile", "firm.view"),
    ]

    groups = settings_groups(admin, pages=pages)

    assert [(group.key, [link.url for link in group.links]) for group in groups] == [("firm", [PROFILE])]


def test_an_app_adds_its_settings_page_with_one_line(firm_a, monkeypatch):
    monkeypatch.setattr(settings_pages, "PAGES", list(PAGES))
    entry = SettingsPage("sales", "Lead channels", "leads:list", "leads.view")
    register(entry)
    register(entry)

    assert settings_pages.PAGES.count(entry) == 1
    page = signed_in(firm_a).get(SETTINGS).content.decode()
    assert "Lead channels" in page and f'href="{reverse("leads:list")}"' in page


# The firm's profile ------------------------------------------------------------------------------------------


def test_an_admin_edits_the_profile_and_the_change_is_audited(firm_a):
    admin = signed_in(firm_a)
    assert admin.get(PROFILE).status_code == 200

    data = profile_data(
        firm_a,
        name="Firm A Renovation Ltd",
        short_name="Firm A",
        address="88 Century Avenue, Shanghai",
        phone="021-5555-0101",
        business_licence_number="91310000MA1FL0000X",
        time_zone="Asia/Urumqi",
        working_hours_start="08:30",
        working_hours_end="17:30",
    )
    response = admin.post(PROFILE, data)

    assert response.status_code == 302 and response["Location"] == PROFILE
    firm_a.refresh_from_db()
    assert (firm_a.name, firm_a.short_name, firm_a.address, firm_a.phone) == (
        "Firm A Renovation Ltd",
        "Firm A",
        "88 Century Avenue, Shanghai",
        "021-5555-0101",
    )
    assert (firm_a.time_zone, firm_a.working_hours_start, firm_a.working_hours_end) == (
        "Asia/Urumqi",
        time(8, 30),
        time(17, 30),
    )
    with tenant_context(firm_a):
        event = AuditEvent.objects.get(table_name="tenancy_tenant")
    assert (event.row_id, event.actor_id, event.action) == (str(firm_a.pk), admin.membership.user_id, "update")
    assert event.changes["name"] == ["Firm A", "Firm A Renovation Ltd"]
    assert event.changes["working_hours_start"] == ["09:00", "08:30"]
    assert "status" not in event.changes and "slug" not in event.changes


def test_every_mistake_in_the_profile_is_shown_at_once(firm_a):
    data = profile_data(
        firm_a, name="", time_zone="Mars/Olympus", working_hours_start="18:00", working_hours_end="09:00"
    )
    response = signed_in(firm_a).post(PROFILE, data)

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"name", "time_zone", "working_hours_end"}
    assert errors["working_hours_end"] == ["Working hours must end after they start."]
    firm_a.refresh_from_db()
    assert firm_a.name == "Firm A" and firm_a.working_hours_start == time(9, 0)


def test_the_service_refuses_what_the_form_would_and_another_firms_profile(firm_a, firm_b):
    with tenant_context(firm_a), pytest.raises(ValidationError) as refused:
        services.firm_profile_update(
            tenant=firm_a, name=" ", time_zone="Mars/Olympus", working_hours_start=time(18), working_hours_end=time(9)
        )
    assert set(refused.value.message_dict) == {"name", "time_zone", "working_hours_end"}
    with tenant_context(firm_b), pytest.raises(ValidationError):
        services.firm_profile_update(tenant=firm_a, name="From another firm")
    firm_a.refresh_from_db()
    assert firm_a.name == "Firm A"


def test_a_logo_that_is_no_picture_is_refused_on_its_field(firm_a):
    upload = SimpleUploadedFile("logo.png", b"%!PS-Adobe not a picture at all", content_type="image/png")

    response = signed_in(firm_a).post(PROFILE, {**profile_data(firm_a, name=""), "logo": upload})

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "not a file type accepted here" in errors["logo"][0]
    assert "name" in errors, "the other mistakes are shown with it"
    firm_a.refresh_from_db()
    assert not firm_a.logo


def test_only_those_who_manage_the_firm_change_it(firm_a):
    designer = signed_in(firm_a, Role.DESIGNER)

    assert designer.get(PROFILE).status_code == 403
    assert designer.post(PROFILE, profile_data(firm_a, name="Hijacked")).status_code == 403
    firm_a.refresh_from_db()
    assert firm_a.name == "Firm A"


def test_a_firm_admin_sees_and_changes_only_their_own_firms_profile(firm_a, firm_b):
    b_admin = signed_in(firm_b)

    page = b_admin.get(PROFILE).content.decode()
    assert 'value="Firm B"' in page and "Firm A" not in page
    # The firm is the session's, never the form's: a posted firm id or slug is ignored.
    data = profile_data(firm_b, name="Firm B Decor", tenant=firm_a.pk, slug=firm_a.slug, id=firm_a.pk)
    assert b_admin.post(PROFILE, data).status_code == 302

    firm_a.refresh_from_db()
    firm_b.refresh_from_db()
    assert (firm_a.name, firm_b.name, firm_b.slug) == ("Firm A", "Firm B Decor", "firm-b")
    with tenant_context(firm_a):
        assert not AuditEvent.objects.filter(table_name="tenancy_tenant").exists()


# The logo ------------------------------------------------------------------------------------------------------


def upload_logo(client, firm, content=None):
    logo = SimpleUploadedFile("logo.png", content or png(), content_type="image/png")
    response = client.post(PROFILE, {**profile_data(firm), "logo": logo})
    assert response.status_code == 302, response.context and response.context["form"].errors
    firm.refresh_from_db()
    return firm.logo.name


def test_the_logo_shows_on_the_portal_and_on_the_warranty_card(firm_a):
    admin = signed_in(firm_a)
    with tenant_context(firm_a):
        link = portal.portal_link_create(worksite=WorksiteFactory(), created_by=None)
        card = WarrantyCardFactory()
    portal_page = Client().get(portal.portal_link_url(link))
    card_page = admin.get(reverse("aftercare:warranty-card", args=[card.pk]))
    assert 'data-testid="portal-logo"' not in portal_page.content.decode(), "no logo: the page as before"
    assert 'data-testid="letterhead-logo"' not in card_page.content.decode()

    name = upload_logo(admin, firm_a)

    assert name.startswith(f"firms/{firm_a.pk}/tenancy/logo/") and name.endswith(".png")
    for page in (
        Client().get(portal.portal_link_url(link)),
        admin.get(reverse("aftercare:warranty-card", args=[card.pk])),
    ):
        assert page.status_code == 200
        src = next(
            line.split('src="')[1].split('"')[0]
            for line in page.content.decode().splitlines()
            if 'data-testid="portal-logo"' in line or 'data-testid="letterhead-logo"' in line
        )
        image = Client().get(src)
        assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert 'data-testid="firm-logo"' in admin.get(PROFILE).content.decode()


def test_a_large_logo_is_made_smaller_and_a_replaced_logo_is_deleted(firm_a, django_capture_on_commit_callbacks):
    admin = signed_in(firm_a)
    with django_capture_on_commit_callbacks(execute=True):
        first = upload_logo(admin, firm_a, png(size=(2400, 1200)))
    with default_storage.open(first) as stored, Image.open(stored) as image:
        assert image.size == (800, 400)

    with django_capture_on_commit_callbacks(execute=True):
        second = upload_logo(admin, firm_a)
    assert second != first
    assert not default_storage.exists(first) and default_storage.exists(second)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(PROFILE, {**profile_data(firm_a), "remove_logo": "on"})
    assert response.status_code == 302
    firm_a.refresh_from_db()
    assert not firm_a.logo and not default_storage.exists(second)


def test_the_firms_status_is_not_part_of_its_profile(firm_a):
    Tenant.objects.filter(pk=firm_a.pk).update(status=Tenant.Status.TRIAL)

    signed_in(firm_a).post(PROFILE, profile_data(firm_a, status="active", is_active="on"))

    firm_a.refresh_from_db()
    assert firm_a.status == Tenant.Status.TRIAL
