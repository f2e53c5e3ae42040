"""Which language a page speaks: staff pages the user's choice, else the firm's, never the browser's; the
homeowner portal its own rule; the partner API the Accept-Language it is sent; pages before sign-in the
browser's."""

import pytest
from django.test import Client

from renocrm.tenancy.context import tenant_context
from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.worksites.test_portal_services import portal_worksite
from worksites.services import portal as portal_services


def html(response) -> str:
    return response.content.decode()


def signed_in(firm, **user) -> Client:
    client = Client()
    client.user = MembershipFactory(tenant=firm, user=UserFactory(**user)).user
    client.force_login(client.user)
    return client


@pytest.fixture
def chinese_firm(db):
    return TenantFactory(name="安居装饰", slug="anju", language="zh-hans")


@pytest.fixture
def english_firm(db):
    return TenantFactory(name="Bright Home", slug="bright-home", language="en")


def test_an_english_browser_gets_a_chinese_firms_pages_in_chinese(chinese_firm):
    staff = signed_in(chinese_firm)
    page = staff.get("/audit/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert '<html lang="zh-hans">' in html(page) and "审计日志" in html(page) and "Audit log" not in html(page)
    assert page["Content-Language"] == "zh-hans"


def test_a_chinese_browser_gets_an_english_firms_pages_in_english(english_firm):
    staff = signed_in(english_firm)
    page = staff.get("/audit/", HTTP_ACCEPT_LANGUAGE="zh-hans,zh;q=0.9")
    assert '<html lang="en">' in html(page) and "Audit log" in html(page)
    assert page["Content-Language"] == "en"


def test_the_language_cookie_does_not_decide_for_staff(chinese_firm):
    staff = signed_in(chinese_firm)
    staff.cookies["django_language"] = "en"
    assert '<html lang="zh-hans">' in html(staff.get("/audit/"))


def test_the_users_own_choice_wins_over_the_firms(chinese_firm, english_firm):
    english_reader = signed_in(chinese_firm, language="en")
    page = english_reader.get("/audit/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert '<html lang="en">' in html(page) and page["Content-Language"] == "en"
    chinese_reader = signed_in(english_firm, language="zh-hans")
    assert '<html lang="zh-hans">' in html(chinese_reader.get("/audit/", HTTP_ACCEPT_LANGUAGE="en"))


def test_forbidden_and_missing_pages_speak_the_staff_language_too(chinese_firm):
    sales = Client()
    sales.force_login(MembershipFactory(tenant=chinese_firm, role="sales").user)
    forbidden = sales.get("/audit/", HTTP_ACCEPT_LANGUAGE="en")
    assert forbidden.status_code == 403 and forbidden["Content-Language"] == "zh-hans"
    missing = sales.get("/leads/999999/", HTTP_ACCEPT_LANGUAGE="en")
    assert missing.status_code == 404 and '<html lang="zh-hans">' in html(missing)


def test_pages_before_sign_in_follow_the_browser():
    visitor = Client()
    english = visitor.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="en">' in html(english) and "Log in" in html(english)
    chinese = visitor.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert '<html lang="zh-hans">' in html(chinese) and "登录" in html(chinese)
    # No preference: the installation's default.
    assert '<html lang="zh-hans">' in html(visitor.get("/accounts/login/"))


def test_the_partner_api_answers_in_the_language_it_asks_for_else_in_english(chinese_firm):
    with tenant_context(chinese_firm):
        from tests.factories import ApiKeyFactory

        key = ApiKeyFactory()
    partner = Client(HTTP_AUTHORIZATION=f"Api-Key {key.raw_key}")
    english = partner.get("/api/v1/leads/999999/", HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 404 and english.json()["error"]["message"] == "Not found."
    assert english["Content-Language"] == "en"
    chinese = partner.get("/api/v1/leads/999999/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.8")
    assert chinese.json()["error"]["message"] == "未找到。" and chinese["Content-Language"] == "zh-hans"
    # Neither asked nor spoken: English, though the key's firm speaks Chinese.
    for asked in ("", "fr-FR, de;q=0.5", "*"):
        answer = partner.get("/api/v1/leads/999999/", HTTP_ACCEPT_LANGUAGE=asked)
        assert answer.json()["error"]["message"] == "Not found." and answer["Content-Language"] == "en", asked
    # A bad key is refused before any firm is known, in the language asked for all the same.
    refused = Client(HTTP_AUTHORIZATION="Api-Key nope").get("/api/v1/leads/", HTTP_ACCEPT_LANGUAGE="zh")
    assert refused.status_code == 401 and refused["Content-Language"] == "zh-hans"
    assert Client(HTTP_AUTHORIZATION="Api-Key nope").get("/api/v1/leads/")["Content-Language"] == "en"


def test_the_homeowner_portal_keeps_its_own_language_rule(chinese_firm):
    with tenant_context(chinese_firm):
        link = portal_services.portal_link_create(worksite=portal_worksite(), created_by=None)
    url = portal_services.portal_link_url(link)
    homeowner = Client()
    assert '<html lang="zh-hans">' in html(homeowner.get(url, HTTP_ACCEPT_LANGUAGE="en"))  # the firm's
    assert '<html lang="en">' in html(homeowner.get(url + "?lang=en"))
    # A member of the firm who chose Chinese and opens the link with ?lang=en sees what the homeowner sees.
    staff = signed_in(chinese_firm, language="zh-hans")
    page = staff.get(url + "?lang=en")
    assert '<html lang="en">' in html(page) and page["Content-Language"] == "en"


def test_a_user_of_no_firm_gets_their_own_choice_else_the_browsers(db):
    user = UserFactory(language="en")
    client = Client()
    client.force_login(user)
    assert '<html lang="en">' in html(client.get("/accounts/no-firm/", HTTP_ACCEPT_LANGUAGE="zh-hans"))
    user.language = ""
    user.save()
    assert '<html lang="zh-hans">' in html(client.get("/accounts/no-firm/", HTTP_ACCEPT_LANGUAGE="zh-hans"))


# The profile page ---------------------------------------------------------------------------------------------


def test_the_profile_saves_name_phone_and_language_and_pages_follow(chinese_firm):
    staff = signed_in(chinese_firm, name="王芳", phone="")
    page = staff.get("/accounts/profile/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "我的资料" in html(page) and "安居装饰" in html(page)
    assert "企业语言（简体中文）" in html(page)  # blank: the firm's language, named
    saved = staff.post(
        "/accounts/profile/", {"name": "王芳芳", "phone": "139 0000 1111", "language": "en"}, follow=True
    )
    assert saved.redirect_chain == [("/accounts/profile/", 302)]
    assert '<html lang="en">' in html(saved) and "Your profile is saved." in html(saved)
    staff.user.refresh_from_db()
    assert (staff.user.name, staff.user.phone, staff.user.language) == ("王芳芳", "139 0000 1111", "en")
    back = staff.post("/accounts/profile/", {"name": "王芳芳", "phone": "", "language": ""}, follow=True)
    assert '<html lang="zh-hans">' in html(back) and "资料已保存。" in html(back)


def test_the_profile_refuses_an_unknown_language(chinese_firm):
    staff = signed_in(chinese_firm)
    refused = staff.post("/accounts/profile/", {"name": "x", "phone": "", "language": "fr"})
    assert refused.status_code == 200 and refused.context["form"].errors["language"]
    staff.user.refresh_from_db()
    assert staff.user.language == ""


def test_the_header_language_buttons_remember_the_choice_on_the_user(chinese_firm):
    staff = signed_in(chinese_firm)
    dashboard = html(staff.get("/"))
    assert 'action="/accounts/profile/"' in dashboard and 'data-testid="profile-link"' in dashboard
    switched = staff.post("/accounts/profile/", {"language": "en", "next": "/audit/"})
    assert switched.status_code == 302 and switched["Location"] == "/audit/"
    staff.user.refresh_from_db()
    assert staff.user.language == "en"
    assert '<html lang="en">' in html(staff.get("/audit/"))
    # A "next" elsewhere is not followed.
    away = staff.post("/accounts/profile/", {"language": "zh-hans", "next": "https://evil.example/"})
    assert away["Location"] == "/accounts/profile/"


def test_the_header_language_buttons_before_sign_in_still_set_the_cookie():
    visitor = Client()
    login = html(visitor.get("/accounts/login/"))
    assert 'action="/i18n/setlang/"' in login
    visitor.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert '<html lang="en">' in html(visitor.get("/accounts/login/"))


def test_the_profile_needs_a_signed_in_user(db):
    response = Client().get("/accounts/profile/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
