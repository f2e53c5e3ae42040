"""The aftercare sweepers: repair SLA breaches, warranty-expiry reminders and member care — each exactly once,
however often and however concurrently beat runs them, and catching up after an outage."""

import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from aftercare import tasks
from aftercare.models import AftercareSettings, CareMessage, CareOptOut, WarrantyReminder
from aftercare.services import care as care_services
from aftercare.services import reminders as reminders_services
from aftercare.services import repairs as repair_services
from aftercare.services import sla as sla_services
from aftercare.services._common import tell_staff
from renocrm.outbox.models import Notification, OutboxEvent, StaffNotice
from renocrm.tenancy.context import tenant_context
from tests.aftercare.conftest import staff
from tests.aftercare.factories import CoverageFactory
from tests.contracts.factories import ProjectFactory
from tests.leads.factories import CustomerFactory
from tests.worksites.factories import WorksiteFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args):
    """A moment in firm time (Asia/Shanghai)."""
    return datetime(*args, tzinfo=SHANGHAI)


def keys(prefix):
    return sorted(
        Notification.objects.filter(idempotency_key__startswith=prefix).values_list("idempotency_key", flat=True)
    )


# Repair SLA ----------------------------------------------------------------------------------------------------


def test_sla_breaches_are_raised_once_each(firm):
    agent = staff(firm, phone="13800000001")
    with time_machine.travel(at(2027, 3, 1, 9, 0), tick=False):
        repair = repair_services.repair_request_open(
            project=WorksiteFactory(customer_service=agent).project, area="kitchen", description="Leak"
        )
        nothing_late = sla_services.repair_sla_raise_breaches()
    assert nothing_late == 0
    with time_machine.travel(at(2027, 3, 2, 10, 0), tick=False):  # 25 hours: no response yet
        assert sla_services.repair_sla_raise_breaches() == 1
        assert sla_services.repair_sla_raise_breaches() == 0
    assert keys("repair-sla:") == [f"repair-sla:{repair.pk}:respond"]
    assert Notification.objects.get().recipient == "13800000001"
    with time_machine.travel(at(2027, 3, 4, 10, 0), tick=False):  # 73 hours: nobody on site
        assert sla_services.repair_sla_raise_breaches() == 1
        tasks.raise_repair_sla_breaches.delay(tenant_id=firm.pk)  # the beat's task, again: nothing more
    assert keys("repair-sla:") == [f"repair-sla:{repair.pk}:on_site", f"repair-sla:{repair.pk}:respond"]
    repair.refresh_from_db()
    assert repair.response_breach_raised_at and repair.on_site_breach_raised_at
    assert OutboxEvent.objects.filter(event_type="repair.sla_breached").count() == 2


def test_a_met_deadline_or_a_closed_repair_raises_nothing(firm):
    with time_machine.travel(at(2027, 3, 1, 9, 0), tick=False):
        answered = repair_services.repair_request_open(project=ProjectFactory(), area="kitchen", description="A")
        repair_services.repair_request_respond(repair=answered, note="Called")
        repair_services.repair_visit_log(repair=answered, kind="visit", note="On site")
        cancelled = repair_services.repair_request_open(project=ProjectFactory(), area="kitchen", description="B")
        repair_services.repair_request_cancel(repair=cancelled, reason="Duplicate")
    with time_machine.travel(at(2027, 3, 10, 9, 0), tick=False):
        assert sla_services.repair_sla_raise_breaches() == 0
    assert not Notification.objects.exists()


def test_an_unassigned_breach_goes_to_each_admin(firm):
    admins = [staff(firm, role="admin", phone=f"1390000000{n}") for n in (1, 2)]
    with time_machine.travel(at(2027, 3, 1, 9, 0), tick=False):
        repair = repair_services.repair_request_open(project=ProjectFactory(), area="kitchen", description="Leak")
    with time_machine.travel(at(2027, 3, 2, 10, 0), tick=False):
        sla_services.repair_sla_raise_breaches()
    assert keys("repair-sla:") == sorted(f"repair-sla:{repair.pk}:respond:{a.pk}" for a in admins)


def test_an_sla_breach_tells_an_agent_with_neither_phone_nor_email_in_the_bell_and_counts_them(firm):
    agent = staff(firm, phone="", email="")
    with time_machine.travel(at(2027, 3, 1, 9, 0), tick=False):
        repair = repair_services.repair_request_open(
            project=WorksiteFactory(customer_service=agent).project, area="kitchen", description="Leak"
        )
    with time_machine.travel(at(2027, 3, 2, 10, 0), tick=False):
        assert sla_services.repair_sla_raise_breaches() == 1
    [notice] = StaffNotice.objects.all()
    assert (notice.user, notice.idempotency_key) == (agent, f"repair-sla:{repair.pk}:respond")
    assert not Notification.objects.exists()
    assert tell_staff([(agent, "told-in-the-bell")], subject="s", body="b") == 1


# Warranty-expiry reminders -------------------------------------------------------------------------------------


@pytest.fixture
def coverage(firm):
    agent = staff(firm, phone="13800000002")
    worksite = WorksiteFactory(customer_service=agent, contract__project__lead__customer__mobile="13912345678")
    return CoverageFactory(
        project=worksite.project, name="Kitchen waterproofing", starts_on=date(2022, 6, 30), ends_on=date(2027, 6, 30)
    )


def reminders(coverage):
    return sorted(WarrantyReminder.objects.filter(coverage=coverage).values_list("days_before", "skipped"))


def test_each_lead_time_is_reminded_once(coverage):
    with time_machine.travel(at(2027, 5, 30, 10, 0), tick=False):  # 31 days before: nothing yet
        assert reminders_services.warranty_reminders_send() == 0
    with time_machine.travel(at(2027, 5, 31, 10, 0), tick=False):
        assert reminders_services.warranty_reminders_send() == 1
        assert reminders_services.warranty_reminders_send() == 0
    with time_machine.travel(at(2027, 6, 23, 10, 0), tick=False):
        assert reminders_services.warranty_reminders_send() == 1
    with time_machine.travel(at(2027, 6, 29, 10, 0), tick=False):
        assert reminders_services.warranty_reminders_send() == 0
    assert reminders(coverage) == [(7, False), (30, False)]
    homeowner = Notification.objects.filter(recipient="13912345678").order_by("id")
    assert [n.idempotency_key for n in homeowner] == [
        f"warranty-reminder:{coverage.pk}:30",
        f"warranty-reminder:{coverage.pk}:7",
    ]
    assert "2027-06-30" in homeowner[0].body
    assert Notification.objects.filter(recipient="13800000002").count() == 2  # customer service
    payloads = [e.payload for e in OutboxEvent.objects.filter(event_type="warranty.expiring").order_by("id")]
    assert [p["days_before"] for p in payloads] == [30, 7]
    assert payloads[0] == {
        "coverage_id": coverage.pk,
        "project_id": coverage.project_id,
        "customer_id": coverage.project.customer_id,
        "ends_on": "2027-06-30",
        "days_before": 30,
    }


def test_after_an_outage_only_the_nearest_lead_time_is_sent(coverage):
    with time_machine.travel(at(2027, 6, 25, 10, 0), tick=False):  # beat was down for 30 days
        assert reminders_services.warranty_reminders_send() == 1
    assert reminders(coverage) == [(7, False), (30, True)]
    [message] = Notification.objects.filter(recipient="13912345678")
    assert message.idempotency_key == f"warranty-reminder:{coverage.pk}:7"
    assert OutboxEvent.objects.filter(event_type="warranty.expiring").count() == 1


def test_an_ended_warranty_is_not_reminded(coverage):
    with time_machine.travel(at(2027, 7, 1, 10, 0), tick=False):
        assert reminders_services.warranty_reminders_send() == 0
    assert not WarrantyReminder.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_send_each_reminder_once(firm_a):
    with tenant_context(firm_a):
        customer_service = staff(firm_a, phone="13800000003")
        coverages = [
            CoverageFactory(
                project=WorksiteFactory(customer_service=customer_service).project,
                starts_on=date(2022, 6, 30),
                ends_on=date(2027, 6, 26) + timedelta(days=n),
            )
            for n in range(5)
        ]
    barrier = threading.Barrier(2)
    sent, errors = [], []

    def sweep():
        try:
            with tenant_context(firm_a):
                barrier.wait(timeout=10)
                sent.append(reminders_services.warranty_reminders_send(today=date(2027, 6, 25)))
        except Exception as error:  # reported below: a thread's exception would vanish
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sum(sent) == len(coverages)
    with tenant_context(firm_a):
        assert WarrantyReminder.objects.filter(skipped=False).count() == len(coverages)
        assert WarrantyReminder.objects.filter(skipped=True).count() == len(coverages)
        homeowner_messages = Notification.objects.filter(idempotency_key__regex=r"^warranty-reminder:\d+:\d+$")
        assert homeowner_messages.count() == len(coverages)
        assert OutboxEvent.objects.filter(event_type="warranty.expiring").count() == len(coverages)


# Member care ---------------------------------------------------------------------------------------------------


def customer_with_handover(**fields):
    customer = CustomerFactory(**fields)
    ProjectFactory(customer=customer, lead__customer=customer, handed_over_on=date(2025, 5, 1))
    return customer


def care(customer):
    return sorted(CareMessage.objects.filter(customer=customer).values_list("occasion", flat=True))


def test_birthday_greetings_from_nine_oclock_once(firm):
    customer = customer_with_handover(birthday=date(1985, 3, 12))
    never_handed_over = CustomerFactory(birthday=date(1985, 3, 12))
    ProjectFactory(customer=never_handed_over, lead__customer=never_handed_over)
    with time_machine.travel(at(2027, 3, 12, 8, 30), tick=False):
        assert care_services.member_care_send() == 0
    with time_machine.travel(at(2027, 3, 12, 9, 5), tick=False):
        assert care_services.member_care_send() == 1
        assert care_services.member_care_send() == 0
    assert care(customer) == ["birthday:2027"] and care(never_handed_over) == []
    [message] = Notification.objects.all()
    assert message.idempotency_key == f"care:{customer.pk}:birthday:2027" and message.recipient == customer.mobile


def test_29_february_birthdays_are_greeted_on_28_february_in_other_years(firm):
    leapling = customer_with_handover(birthday=date(1988, 2, 29))
    with time_machine.travel(at(2027, 2, 28, 10, 0), tick=False):
        care_services.member_care_send()
    with time_machine.travel(at(2028, 2, 28, 10, 0), tick=False):
        care_services.member_care_send()  # a leap year: not yet
    assert care(leapling) == ["birthday:2027"]
    with time_machine.travel(at(2028, 2, 29, 10, 0), tick=False):
        care_services.member_care_send()
    assert care(leapling) == ["birthday:2027", "birthday:2028"]


def test_an_opted_out_customer_gets_nothing_until_the_opt_out_is_undone(firm):
    customer = customer_with_handover(birthday=date(1980, 7, 1))
    care_services.care_opt_out_record(customer=customer, reason="No marketing")
    with time_machine.travel(at(2027, 7, 1, 10, 0), tick=False):
        assert care_services.member_care_send() == 0
        care_services.care_opt_out_undo(customer=customer)
        assert not CareOptOut.objects.exists()
        assert care_services.member_care_send() == 1


def test_holiday_greetings_on_the_first_day_of_the_holiday(firm):
    customer = customer_with_handover()
    for day in (date(2026, 2, 14), date(2026, 2, 15), date(2026, 2, 16), date(2026, 9, 25), date(2026, 10, 1)):
        with time_machine.travel(at(day.year, day.month, day.day, 10, 0), tick=False):
            care_services.member_care_send()
    assert care(customer) == [
        "holiday:Mid-autumn Festival:2026",
        "holiday:National Day:2026",
        "holiday:Spring Festival:2026",
    ]


def test_past_the_calendar_data_only_national_day_is_greeted(firm):
    customer = customer_with_handover()
    for day in (date(2099, 1, 1), date(2099, 10, 1), date(2099, 10, 2)):
        with time_machine.travel(at(day.year, day.month, day.day, 10, 0), tick=False):
            care_services.member_care_send()
    assert care(customer) == ["holiday:National Day:2099"]


def test_switches_turn_greetings_off(firm):
    customer = customer_with_handover(birthday=date(1980, 10, 1))
    AftercareSettings.objects.create(birthday_greetings=False, holiday_greetings=False, free_inspection_offer_days=0)
    with time_machine.travel(at(2026, 10, 1, 10, 0), tick=False):
        assert care_services.member_care_send() == 0
    assert care(customer) == []


def test_the_free_inspection_offer_goes_once_before_a_warranty_ends(firm):
    customer = customer_with_handover()
    coverage = CoverageFactory(project=customer.projects.get(), starts_on=date(2025, 5, 1), ends_on=date(2027, 5, 1))
    AftercareSettings.objects.create(free_inspection_offer_days=60, holiday_greetings=False)
    with time_machine.travel(at(2027, 3, 1, 10, 0), tick=False):  # 61 days before
        assert care_services.member_care_send() == 0
    for day in (2, 3):
        with time_machine.travel(at(2027, 3, day, 10, 0), tick=False):
            care_services.member_care_send()
    assert care(customer) == [f"offer:coverage:{coverage.pk}"]
    assert CareMessage.objects.get().kind == CareMessage.Kind.OFFER


def test_the_beat_task_fans_out_to_each_firm(firm_a, firm_b):
    with tenant_context(firm_b):
        customer = customer_with_handover(birthday=date(1980, 4, 2))
    with time_machine.travel(at(2027, 4, 2, 10, 0), tick=False):
        tasks.sweep_member_care()
        tasks.sweep_warranty_reminders()
        tasks.sweep_repair_sla()
    with tenant_context(firm_b):
        assert care(customer) == ["birthday:2027"]
    with tenant_context(firm_a):
        assert not CareMessage.objects.exists()
