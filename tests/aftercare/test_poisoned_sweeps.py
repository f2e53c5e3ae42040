"""A row an aftercare sweeper cannot handle (the database refuses its write) is recorded with its error and
tried again after its backoff, while the firm's other rows go through; once mended it goes through once."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from aftercare import tasks
from aftercare.models import CareMessage, WarrantyReminder
from aftercare.services import repairs as repair_services
from renocrm.outbox.models import Notification
from renocrm.sweeps.models import SweepFailure
from tests.aftercare.conftest import staff
from tests.aftercare.factories import CoverageFactory
from tests.aftercare.test_sweeps import customer_with_handover
from tests.poison import cure, poison, poisoned_tables
from tests.worksites.factories import WorksiteFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")

poisonable = poisoned_tables(
    ("aftercare_repairrequest", "id"),
    ("aftercare_warrantyreminder", "coverage_id"),
    ("aftercare_caremessage", "customer_id"),
)
pytestmark = pytest.mark.usefixtures("poisonable")


def at(*args):
    return datetime(*args, tzinfo=SHANGHAI)


def run(task, firm, moment):
    with time_machine.travel(moment, tick=False):
        return task.delay(tenant_id=firm.pk).get()


def failure(sweeper):
    return SweepFailure.objects.get(sweeper=sweeper)


def test_a_poisoned_repair_is_retried_later_and_the_other_breaches_are_raised(firm):
    project = WorksiteFactory(customer_service=staff(firm, phone="13800000001")).project
    with time_machine.travel(at(2027, 3, 1, 9, 0), tick=False):
        good, bad = (repair_services.repair_request_open(project=project, area="kitchen", description=d) for d in "AB")
    poison("aftercare_repairrequest", bad.pk)
    late = at(2027, 3, 2, 10, 0)

    assert run(tasks.raise_repair_sla_breaches, firm, late) == 1
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.response_breach_raised_at and bad.response_breach_raised_at is None
    recorded = failure("repair-sla")
    assert (recorded.row_key, recorded.attempts) == (str(bad.pk), 1) and "poisoned row" in recorded.error

    cure("aftercare_repairrequest")
    assert run(tasks.raise_repair_sla_breaches, firm, late + timedelta(minutes=5)) == 0, "still backing off"
    assert run(tasks.raise_repair_sla_breaches, firm, late + timedelta(minutes=10)) == 1
    bad.refresh_from_db()
    assert bad.response_breach_raised_at is not None
    assert Notification.objects.filter(idempotency_key=f"repair-sla:{bad.pk}:respond").count() == 1
    assert not SweepFailure.objects.exists()


def test_a_poisoned_coverage_is_retried_later_and_the_other_reminders_go(firm):
    good, bad = (CoverageFactory(starts_on=date(2022, 6, 30), ends_on=date(2027, 6, 30)) for _ in range(2))
    poison("aftercare_warrantyreminder", bad.pk)
    due = at(2027, 5, 31, 10, 0)

    assert run(tasks.send_warranty_reminders, firm, due) == 1
    assert list(WarrantyReminder.objects.values_list("coverage_id", flat=True)) == [good.pk]
    assert failure("warranty-reminders").row_key == str(bad.pk)

    cure("aftercare_warrantyreminder")
    assert run(tasks.send_warranty_reminders, firm, due + timedelta(minutes=5)) == 0, "still backing off"
    assert run(tasks.send_warranty_reminders, firm, due + timedelta(minutes=10)) == 1
    assert WarrantyReminder.objects.filter(coverage=bad, days_before=30, skipped=False).count() == 1
    assert not SweepFailure.objects.exists()
    assert run(tasks.send_warranty_reminders, firm, due + timedelta(hours=1)) == 0


def test_a_poisoned_greeting_is_retried_later_and_the_others_go(firm):
    good, bad = (customer_with_handover(birthday=date(1985, 3, 12)) for _ in range(2))
    poison("aftercare_caremessage", bad.pk)
    nine = at(2027, 3, 12, 9, 5)

    assert run(tasks.send_member_care, firm, nine) == 1
    assert list(CareMessage.objects.values_list("customer_id", flat=True)) == [good.pk]
    assert failure("member-care").row_key == f"{bad.pk}:birthday:2027"

    cure("aftercare_caremessage")
    assert run(tasks.send_member_care, firm, nine + timedelta(minutes=5)) == 0, "still backing off"
    assert run(tasks.send_member_care, firm, nine + timedelta(minutes=10)) == 1
    assert Notification.objects.filter(idempotency_key=f"care:{bad.pk}:birthday:2027").count() == 1
    assert not SweepFailure.objects.exists()
