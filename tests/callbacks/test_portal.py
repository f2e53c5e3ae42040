"""The homeowner's survey page behind the SMS link: no account, the firm's language, one submission."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from callbacks.models import Callback, Method, Survey
from callbacks.services import survey_link
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.time import firm_today
from tests.callbacks.factories import CallbackFactory, SurveyFactory

ANSWERS = {
    "contact": "yes",
    "overall": "5",
    "quality_painting": "4",
    "defects_painting": ["crack"],
    "nps": "10",
    "demands": ["soft_furnishing"],
    "suggestions": "More photos during the works",
}


@pytest.fixture
def sms_callback(firm_a):
    with tenant_context(firm_a):
        return CallbackFactory(
            status=Callback.Status.OPEN,
            method=Method.SMS,
            due_on=firm_today(),
            released_at=timezone.now(),
            worksite__contract__project__lead__customer__name="Wang Fang",
        )


def survey_url(callback):
    with tenant_context(callback.tenant):
        return survey_link.survey_link_url(callback)


def test_the_link_opens_the_survey_without_an_account_and_is_not_cached(client, sms_callback):
    url = survey_url(sms_callback)
    assert url.startswith("/portal/survey/")
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="survey-form"' in html and 'name="overall"' in html and 'name="nps"' in html
    assert "Firm A" in html and "Wang Fang" in html
    assert "no-store" in page["Cache-Control"]
    assert 'class="main-nav"' not in html


def test_the_page_speaks_the_firms_language_and_switches_to_english(client, sms_callback):
    url = survey_url(sms_callback)
    chinese = client.get(url)
    assert '<html lang="zh-hans">' in chinese.content.decode()
    english = client.get(f"{url}?lang=en")
    assert '<html lang="en">' in english.content.decode()
    # The choice is remembered for the next page (the thank-you page after sending).
    assert english.cookies["django_language"].value == "en"


def test_a_tampered_link_is_404_and_shows_nothing(client, sms_callback):
    url = survey_url(sms_callback)
    token = url.rstrip("/").rsplit("/", 1)[1]
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    page = client.get(f"/portal/survey/{tampered}/")
    assert page.status_code == 404
    assert "Wang Fang" not in page.content.decode() and 'name="overall"' not in page.content.decode()
    assert client.get("/portal/survey/not-a-token/").status_code == 404


def test_an_expired_link_is_410(client, sms_callback):
    url = survey_url(sms_callback)
    with time_machine.travel(timezone.now() + timedelta(days=60)):
        page = client.get(url)
    assert page.status_code == 410
    assert "Wang Fang" not in page.content.decode() and 'name="overall"' not in page.content.decode()


def test_an_answered_survey_shows_thanks_and_no_form(client, sms_callback):
    url = survey_url(sms_callback)
    with tenant_context(sms_callback.tenant):
        SurveyFactory(callback=sms_callback)
    page = client.get(url)
    assert page.status_code == 200
    assert 'data-testid="survey-thanks"' in page.content.decode() and 'name="overall"' not in page.content.decode()


def test_the_homeowner_submits_and_sees_thanks(client, sms_callback):
    url = survey_url(sms_callback)
    sent = client.post(url, ANSWERS)
    assert sent.status_code == 302 and sent["Location"] == url
    thanks = client.get(url)
    assert 'data-testid="survey-thanks"' in thanks.content.decode()
    with tenant_context(sms_callback.tenant):
        survey = Survey.objects.get(callback=sms_callback)
        sms_callback.refresh_from_db()
        assert survey.via == Survey.Via.SMS_LINK and survey.submitted_by is None
        assert (survey.overall, survey.nps, survey.quality_painting) == (5, 10, 4)
        assert [d.kind for d in survey.defects.all()] == ["crack"]
        assert survey.lead is not None
        assert sms_callback.status == Callback.Status.COMPLETED
    # Sending again (a reload) changes nothing.
    client.post(url, {**ANSWERS, "overall": "1"})
    with tenant_context(sms_callback.tenant):
        assert Survey.objects.get(callback=sms_callback).overall == 5


def test_missing_answers_come_back_with_errors_and_nothing_is_stored(client, sms_callback):
    url = survey_url(sms_callback)
    page = client.post(f"{url}?lang=en", {**ANSWERS, "overall": "", "file_complaint": "on"})
    html = page.content.decode()
    assert page.status_code == 200
    assert {"overall", "complaint_category", "complaint_description"} <= set(page.context["form"].errors)
    assert 'name="nps" value="10" id="id_nps_10" checked' in html and "More photos during the works" in html
    with tenant_context(sms_callback.tenant):
        assert not Survey.objects.exists()
