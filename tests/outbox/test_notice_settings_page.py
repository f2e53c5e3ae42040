"""The firm admin's notice settings page (/settings/notices/): admins only, one firm's settings and robots
only, and credentials and robot keys never sent back to the browser."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from renocrm.accounts.roles import Role
from renocrm.outbox.models import NoticeSettings, SmsReceipt, WecomRobot
from renocrm.tenancy.context import tenant_context
from tests.factories import MembershipFactory
from tests.outbox.factories import NotificationFactory, SmsReceiptFactory, WecomRobotFactory

PAGE = "outbox:notice-settings"
KEY_ID, SECRET = "LTAI5tFirmOwnKey8899", "firm-own-secret-value-42"
ROBOT_KEY = "693a91f6-7a2b-4bc4-97a0-0ec2f1fa5aaa"


@pytest.fixture
def admin(staff_client):
    return staff_client


def client_for(firm, role=Role.ADMIN) -> Client:
    client = Client()
    client.force_login(MembershipFactory(tenant=firm, role=role).user)
    return client


def settings_post(**overrides) -> dict:
    data = {
        "provider": "aliyun",
        "sign_name": "美家装饰",
        "app_id": "",
        "access_key_id": KEY_ID,
        "access_key_secret": SECRET,
        "callbacks__survey_link__code": "SMS_465300001",
        "callbacks__survey_link__params": "name=customer_name, link=survey_link",
        "aftercare__birthday_greeting__code": "SMS_465300009",
        "aftercare__birthday_greeting__params": "",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("role", [Role.SALES, Role.CUSTOMER_SERVICE, Role.DESIGNER, Role.FINANCE])
def test_only_firm_admins_open_the_page(firm_a, role):
    client = client_for(firm_a, role)
    assert client.get(reverse(PAGE)).status_code == 403
    assert client.post(reverse(PAGE), settings_post()).status_code == 403
    assert client.get(reverse("outbox:robot-create")).status_code == 403
    with tenant_context(firm_a):
        assert not NoticeSettings.objects.exists()


def test_signed_out_goes_to_the_login_page(client, firm_a):
    response = client.get(reverse(PAGE))
    assert response.status_code == 302 and "login" in response["Location"]


def test_an_admin_saves_the_gateway_and_never_sees_the_credentials_again(admin, firm_a):
    assert admin.get(reverse(PAGE)).status_code == 200
    response = admin.post(reverse(PAGE), settings_post())
    assert response.status_code == 302
    with tenant_context(firm_a):
        saved = NoticeSettings.objects.get()
    assert (saved.provider, saved.sign_name, saved.access_key_id, saved.access_key_secret) == (
        "aliyun",
        "美家装饰",
        KEY_ID,
        SECRET,
    )
    assert saved.templates == {
        "callbacks.survey_link": {"code": "SMS_465300001", "params": {"name": "customer_name", "link": "survey_link"}},
        "aftercare.birthday_greeting": {"code": "SMS_465300009", "params": {}},
    }
    page = admin.get(reverse(PAGE))
    html = page.content.decode()
    assert SECRET not in html and KEY_ID not in html
    assert "LTAI••••8899" in html
    assert "no-cache" in page["Cache-Control"] or "no-store" in page["Cache-Control"]
    assert 'value="SMS_465300001"' in html and "name=customer_name, link=survey_link" in html

    # Saving again with the credentials left empty keeps them.
    admin.post(reverse(PAGE), settings_post(access_key_id="", access_key_secret="", sign_name="美家装饰二"))
    with tenant_context(firm_a):
        saved = NoticeSettings.objects.get()
    assert (saved.sign_name, saved.access_key_id, saved.access_key_secret) == ("美家装饰二", KEY_ID, SECRET)

    admin.post(
        reverse(PAGE), settings_post(access_key_id="", access_key_secret="", provider="", clear_credentials="on")
    )
    with tenant_context(firm_a):
        saved = NoticeSettings.objects.get()
    assert (saved.provider, saved.access_key_id, saved.access_key_secret) == ("", "", "")


def test_the_audit_trail_hides_the_credentials(admin, firm_a):
    from renocrm.audit.models import AuditEvent
    from renocrm.audit.selectors import audit_changes

    admin.post(reverse(PAGE), settings_post())
    with tenant_context(firm_a):
        event = AuditEvent.objects.filter(table_name=NoticeSettings._meta.db_table).latest("id")
        shown = {change.field: change.new for change in audit_changes(event)}
    assert KEY_ID not in str(shown) and SECRET not in str(shown)


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"callbacks__survey_link__code": "1968001"}, "callbacks__survey_link__code", "SMS_123456789"),
        ({"callbacks__survey_link__params": "name=nobody"}, "callbacks__survey_link__code", "nobody"),
        ({"callbacks__survey_link__params": "name"}, "callbacks__survey_link__params", "template_name=renocrm_name"),
        ({"provider": "tencent", "app_id": "", "callbacks__survey_link__code": "1968001"}, "app_id", "SmsSdkAppId"),
        (
            {"provider": "tencent", "app_id": "1400006666", "callbacks__survey_link__code": "1968001"},
            "callbacks__survey_link__code",
            "1, 2, 3",
        ),
        ({"access_key_secret": ""}, "access_key_id", "both"),
        ({"sign_name": "【美家】"}, "sign_name", "【】"),
    ],
)
def test_refusals_show_on_their_field(admin, firm_a, overrides, field, words):
    admin.get(reverse(PAGE))
    from django.utils import translation

    with translation.override("en"):
        membership = admin.membership
        membership.user.language = "en"
        membership.user.save(update_fields=["language"])
        response = admin.post(reverse(PAGE), settings_post(**overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and words in " ".join(errors[field])
    with tenant_context(firm_a):
        assert not NoticeSettings.objects.filter(provider__in=["aliyun", "tencent"]).exists()


def test_robots_are_added_edited_and_their_key_is_never_shown(admin, firm_a, settings):
    url = f"{settings.WECOM_WEBHOOK_URL}?key={ROBOT_KEY}"
    response = admin.post(
        reverse("outbox:robot-create"),
        {"name": "销售群", "webhook_url": url, "kinds": ["new_leads"], "message_format": "markdown", "is_active": "on"},
    )
    assert response.status_code == 302
    with tenant_context(firm_a):
        robot = WecomRobot.objects.get()
    assert (robot.webhook_url, robot.kinds) == (url, ["new_leads"])
    for page in (reverse(PAGE), reverse("outbox:robot-edit", args=[robot.pk])):
        html = admin.get(page).content.decode()
        assert ROBOT_KEY not in html and "••••5aaa" in html

    # Left empty, the URL stays; the kinds change.
    admin.post(
        reverse("outbox:robot-edit", args=[robot.pk]),
        {"name": "销售群", "webhook_url": "", "kinds": ["new_leads", "overdue_callbacks"], "message_format": "text"},
    )
    with tenant_context(firm_a):
        robot.refresh_from_db()
    assert robot.webhook_url == url and robot.kinds == ["new_leads", "overdue_callbacks"]
    assert (robot.message_format, robot.is_active) == ("text", False)

    bad = admin.post(
        reverse("outbox:robot-create"),
        {"name": "Evil", "webhook_url": "https://example.com/hook?key=abcdefgh1234", "message_format": "text"},
    )
    assert bad.status_code == 200 and "webhook_url" in bad.context["form"].errors

    assert admin.post(reverse("outbox:robot-delete", args=[robot.pk])).status_code == 302
    with tenant_context(firm_a):
        assert not WecomRobot.objects.exists()


def test_another_firms_robots_and_settings_stay_out_of_reach(admin, firm_a, firm_b):
    with tenant_context(firm_b):
        theirs = WecomRobotFactory(name="B 的销售群")
        NoticeSettings.objects.create(provider="aliyun", sign_name="乙方装饰", access_key_id="LTAI5tFirmBOnly0000")
    for name in ("outbox:robot-edit", "outbox:robot-delete", "outbox:robot-test"):
        response = admin.post(reverse(name, args=[theirs.pk]), {"name": "taken", "message_format": "text"})
        assert response.status_code == 404
    html = admin.get(reverse(PAGE)).content.decode()
    assert "B 的销售群" not in html and "乙方装饰" not in html and "0000" not in html
    admin.post(reverse(PAGE), settings_post())
    with tenant_context(firm_b):
        assert WecomRobot.objects.get().name == "B 的销售群"
        assert NoticeSettings.objects.get().sign_name == "乙方装饰"


def test_the_page_lists_the_latest_texts_with_their_receipts(admin, firm_a):
    with tenant_context(firm_a):
        note = NotificationFactory(sms_template="callbacks.survey_link", status="sent")
        SmsReceiptFactory(notification=note, status=SmsReceipt.Status.UNDELIVERED, error_code="MOBILE_NOT_ON_SERVICE")
    html = admin.get(reverse(PAGE)).content.decode()
    assert "callbacks.survey_link" in html and "MOBILE_NOT_ON_SERVICE" in html
    assert note.recipient not in html


def test_without_keys_of_its_own_a_firm_sets_no_signature_app_or_templates(admin, firm_a, settings, english):
    settings.SMS_BACKEND = "aliyun"  # the installation sends through Alibaba Cloud, under its own signature
    membership = admin.membership
    membership.user.language = "en"
    membership.user.save(update_fields=["language"])
    page = admin.get(reverse(PAGE)).content.decode()
    assert "go through the installation's account, under its signature" in page
    assert "staff__notice__code" not in page and "staff__password_reset__code" not in page

    for provider in ("", "aliyun"):
        response = admin.post(reverse(PAGE), settings_post(provider=provider, access_key_id="", access_key_secret=""))
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert "Only with your own AccessKey" in " ".join(errors["sign_name"])
        assert "Only with your own AccessKey" in " ".join(errors["callbacks__survey_link__code"])
    with tenant_context(firm_a):
        assert not NoticeSettings.objects.exclude(sign_name="").exists()

    bare = {"provider": "aliyun", "sign_name": "", "app_id": ""}
    assert admin.post(reverse(PAGE), bare).status_code == 302
    with tenant_context(firm_a):
        saved = NoticeSettings.objects.get()
    assert (saved.provider, saved.sign_name, saved.templates, saved.access_key_id) == ("aliyun", "", {}, "")


def test_leaving_its_own_account_forgets_what_belonged_to_it(admin, firm_a, settings):
    settings.SMS_BACKEND = "aliyun"
    admin.post(reverse(PAGE), settings_post())
    page = admin.get(reverse(PAGE)).content.decode()
    assert 'data-testid="sms-account"' in page
    # Back to the installation's account: the form still shows the signature and templates, which go.
    response = admin.post(reverse(PAGE), settings_post(provider="", access_key_id="", access_key_secret=""))
    assert response.status_code == 302
    with tenant_context(firm_a):
        saved = NoticeSettings.objects.get()
    assert (saved.provider, saved.sign_name, saved.templates, saved.access_key_id) == ("", "", {}, "")


def test_templates_for_staff_account_texts_are_not_kept(admin, firm_a):
    admin.post(reverse(PAGE), settings_post(staff__password_reset__code="SMS_465300011"))
    with tenant_context(firm_a):
        assert "staff.password_reset" not in NoticeSettings.objects.get().templates
