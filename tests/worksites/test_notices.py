"""The homeowner hears of each inspection beforehand (default the day before, from 09:00 firm time): when
it is and what to check, with their portal link, once per inspection and date; the portal lists it too."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import translation

from renocrm.outbox.models import Notification
from renocrm.sweeps.models import SweepFailure
from renocrm.tenancy.context import tenant_context
from tests.poison import cure, poison, poisoned_tables
from tests.worksites.test_portal_services import portal_worksite
from worksites.models import Inspection, Worksite
from worksites.services import gates, inspections
from worksites.services.notices import inspection_notices_send
from worksites.services.portal import portal_link_token
from worksites.tasks import notices as tasks

# Tuesday 8 December 2026 in Shanghai (UTC+8): 08:30 and 09:10 local.
BEFORE_NINE = datetime(2026, 12, 8, 0, 30, tzinfo=UTC)
AFTER_NINE = datetime(2026, 12, 8, 1, 10, tzinfo=UTC)
WEDNESDAY = date(2026, 12, 9)

poisonable = poisoned_tables(("worksites_portallink", "worksite_id"))
pytestmark = pytest.mark.usefixtures("poisonable")


def site_with_inspection(*, on=WEDNESDAY, at=time(14, 30), kind=Inspection.Kind.CONCEALED_WORKS, mobile="13800138000"):
    worksite = portal_worksite(mobile=mobile)
    inspection = inspections.inspection_schedule(
        worksite=worksite, kind=kind, created_by=None, scheduled_on=on, scheduled_time=at
    )
    return worksite, inspection


def send(firm, moment):
    with time_machine.travel(moment, tick=False), tenant_context(firm):
        return inspection_notices_send()


def notices():
    return list(Notification.objects.filter(idempotency_key__startswith="inspection-notice:").order_by("id"))


def test_the_day_before_from_nine_the_homeowner_hears_when_and_what_to_check(firm_a):
    with time_machine.travel(BEFORE_NINE, tick=False), tenant_context(firm_a):
        worksite, inspection = site_with_inspection()
        site_with_inspection(on=WEDNESDAY + timedelta(days=1), mobile="13900139001")  # two days ahead: not yet
    assert send(firm_a, BEFORE_NINE) == 0
    assert send(firm_a, AFTER_NINE) == 1
    assert send(firm_a, AFTER_NINE + timedelta(hours=1)) == 0, "once per inspection and date"
    with tenant_context(firm_a):
        [notice] = notices()
        assert notice.idempotency_key == f"inspection-notice:{inspection.pk}:2026-12-09"
        assert notice.recipient == "13800138000"
        assert "2026-12-09 14:30" in notice.body and "/portal/" in notice.body
        with translation.override(firm_a.language):  # the firm's words
            checks = str(Inspection.HOMEOWNER_CHECKS[Inspection.Kind.CONCEALED_WORKS])
        assert checks in notice.body


def test_a_rescheduled_inspection_is_announced_again_for_its_new_date(firm_a):
    with time_machine.travel(BEFORE_NINE, tick=False), tenant_context(firm_a):
        _worksite, inspection = site_with_inspection()
    assert send(firm_a, AFTER_NINE) == 1
    with tenant_context(firm_a):
        Inspection.objects.filter(pk=inspection.pk).update(scheduled_on=WEDNESDAY + timedelta(days=1))
    assert send(firm_a, AFTER_NINE + timedelta(days=1)) == 1
    with tenant_context(firm_a):
        assert [n.idempotency_key.rsplit(":", 1)[1] for n in notices()] == ["2026-12-09", "2026-12-10"]


def test_no_notice_when_turned_off_decided_handed_over_or_without_a_mobile(firm_a):
    with time_machine.travel(BEFORE_NINE, tick=False), tenant_context(firm_a):
        _w, decided = site_with_inspection()
        Inspection.objects.filter(pk=decided.pk).update(result=Inspection.Result.FAILED)
        handed, _i = site_with_inspection(mobile="13900139002")
        Worksite.objects.filter(pk=handed.pk).update(status=Worksite.Status.HANDED_OVER)
        site_with_inspection(mobile="")
        _w, kept = site_with_inspection(mobile="13900139003")
        gates.construction_settings_update(inspection_notice_days=0)
    assert send(firm_a, AFTER_NINE) == 0
    with tenant_context(firm_a):
        gates.construction_settings_update(inspection_notice_days=2, inspection_notice="{firm}: {kind} {date}{time}")
    assert send(firm_a, AFTER_NINE) == 1
    with tenant_context(firm_a):
        [notice] = notices()
        assert notice.idempotency_key == f"inspection-notice:{kept.pk}:2026-12-09"
        assert notice.body.endswith("2026-12-09 14:30")


def test_the_portal_lists_the_inspections_ahead_with_what_to_check(firm_a, client):
    with time_machine.travel(BEFORE_NINE, tick=False), tenant_context(firm_a):
        worksite, inspection = site_with_inspection(kind=Inspection.Kind.WATERPROOFING_TEST)
        from worksites.services.portal import portal_link_create

        link = portal_link_create(worksite=worksite)
        token = portal_link_token(link)
    with time_machine.travel(BEFORE_NINE, tick=False):
        page = Client().get(f"/portal/{token}/?lang=en")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-testid="inspections-ahead"' in text and "2026-12-09 14:30" in text
    assert "the water level after standing" in text


def test_a_poisoned_notice_is_retried_later_and_the_others_go(firm_a):
    with time_machine.travel(BEFORE_NINE, tick=False), tenant_context(firm_a):
        good, _g = site_with_inspection()
        bad, _b = site_with_inspection(mobile="13900139004")
    poison("worksites_portallink", bad.pk)

    def run(moment):
        with time_machine.travel(moment, tick=False):
            return tasks.send_inspection_notices.delay(tenant_id=firm_a.pk).get()

    assert run(AFTER_NINE) == 1
    with tenant_context(firm_a):
        assert SweepFailure.objects.get().sweeper == "inspection-notices"
    cure("worksites_portallink")
    assert run(AFTER_NINE + timedelta(minutes=5)) == 0  # waiting out its backoff
    assert run(AFTER_NINE + timedelta(minutes=10)) == 1
    with tenant_context(firm_a):
        assert len(notices()) == 2 and not SweepFailure.objects.exists()
