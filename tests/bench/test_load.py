"""The bench loader at its smallest scale, in a database of its own: the rows are where the application
can see them (and only there), parents and children belong to the same firm, the sweeper fixtures are
exact, and ``rearm_sweeps`` puts a real sweep's work back."""

from __future__ import annotations

import os

import pytest

from bench.load import _connect, _drop_database, _pointed_at, ensure_dataset, rearm_sweeps

SCALE = 0.002
DATABASE = f"renocrm_bench_test_{os.getpid()}"

MAJOR_TABLES = (
    "tenancy_tenant",
    "leads_customer",
    "leads_property",
    "leads_lead",
    "contracts_quotationversion",
    "contracts_quotationitem",
    "contracts_project",
    "contracts_contract",
    "worksites_worksite",
    "worksites_phase",
    "worksites_progressupdate",
    "worksites_inspection",
    "worksites_signoff",
    "worksites_handover",
    "aftercare_coverage",
    "callbacks_callback",
    "callbacks_survey",
    "complaints_complaint",
    "audit_auditevent",
)

# (child table, foreign-key column, parent table)
PARENTS = (
    ("leads_lead", "customer_id", "leads_customer"),
    ("leads_lead", "property_id", "leads_property"),
    ("leads_property", "customer_id", "leads_customer"),
    ("contracts_project", "lead_id", "leads_lead"),
    ("contracts_project", "customer_id", "leads_customer"),
    ("contracts_contract", "project_id", "contracts_project"),
    ("contracts_contract", "quotation_version_id", "contracts_quotationversion"),
    ("contracts_quotationitem", "version_id", "contracts_quotationversion"),
    ("worksites_worksite", "project_id", "contracts_project"),
    ("worksites_phase", "worksite_id", "worksites_worksite"),
    ("worksites_progressupdate", "worksite_id", "worksites_worksite"),
    ("worksites_signoff", "inspection_id", "worksites_inspection"),
    ("aftercare_coverage", "project_id", "contracts_project"),
    ("callbacks_callback", "project_id", "contracts_project"),
    ("callbacks_callback", "worksite_id", "worksites_worksite"),
    ("callbacks_callback", "customer_id", "leads_customer"),
    ("callbacks_callback", "step_id", "callbacks_callbackstep"),
    ("callbacks_survey", "callback_id", "callbacks_callback"),
    ("complaints_complaint", "project_id", "contracts_project"),
)


@pytest.fixture(scope="module")
def dataset(django_db_blocker):
    with django_db_blocker.unblock():
        loaded = ensure_dataset(SCALE, force=True, database=DATABASE)
        yield loaded
        _drop_database(DATABASE)


@pytest.fixture
def owner(dataset, django_db_blocker):
    with django_db_blocker.unblock():
        conn = _connect("owner", dataset.database)
        try:
            yield conn.cursor()
        finally:
            conn.close()


def test_every_major_table_has_rows(dataset, owner):
    for table in MAJOR_TABLES:
        owner.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 — fixed names
        count = owner.fetchone()[0]
        assert count > 0, table
        assert dataset.counts[table] == count
    assert dataset.counts["tenancy_tenant"] == 3


def test_every_row_belongs_to_its_parents_firm(owner):
    for child, column, parent in PARENTS:
        owner.execute(
            f"SELECT count(*), count(*) FILTER (WHERE c.tenant_id <> p.tenant_id)"  # noqa: S608 — fixed names
            f" FROM {child} c JOIN {parent} p ON p.id = c.{column}"
        )
        joined, foreign = owner.fetchone()
        assert joined > 0, (child, column)
        assert foreign == 0, (child, column)


def test_every_loaded_row_went_through_the_audit_trigger(owner):
    owner.execute("SELECT count(*) FROM audit_auditevent WHERE request_id = 'bench-load' AND table_name = 'leads_lead'")
    audited = owner.fetchone()[0]
    owner.execute("SELECT count(*) FROM leads_lead")
    assert audited == owner.fetchone()[0]


def test_the_largest_firm_is_the_largest(dataset, owner):
    owner.execute("SELECT tenant_id, count(*) FROM leads_customer GROUP BY tenant_id ORDER BY count(*) DESC")
    sizes = owner.fetchall()
    assert sizes[0] == (dataset.largest.tenant_id, dataset.largest.customers)
    assert sizes[0][1] > sizes[1][1]
    assert (dataset.small.tenant_id, dataset.small.customers) in sizes


def test_exactly_the_scaled_number_of_callbacks_wait_for_the_sweeper(dataset, owner):
    owner.execute(
        "SELECT count(*) FROM callbacks_callback WHERE status = 'scheduled' AND due_on <= %s", [dataset.bench_day]
    )
    assert owner.fetchone()[0] == round(10_000 * SCALE) == dataset.counts["due_callbacks"]


def test_the_application_sees_its_firms_rows_and_no_other(dataset, owner, django_db_blocker):
    from django.db import connection

    from leads.models import Lead
    from renocrm.tenancy.context import tenant_context
    from renocrm.tenancy.models import Tenant

    owner.execute("SELECT count(*) FROM leads_lead WHERE tenant_id = %s", [dataset.small.tenant_id])
    expected = owner.fetchone()[0]
    with django_db_blocker.unblock(), _pointed_at(dataset.database):
        firm = Tenant.objects.get(pk=dataset.small.tenant_id)
        with tenant_context(firm):
            assert Lead.objects.count() == expected
            assert set(dataset.small.lead_ids) <= set(Lead.objects.values_list("pk", flat=True))
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM leads_lead WHERE tenant_id <> %s", [firm.pk])
                assert cursor.fetchone()[0] == 0


def test_a_second_call_reuses_the_loaded_data(dataset, django_db_blocker):
    with django_db_blocker.unblock():
        again = ensure_dataset(SCALE, database=DATABASE)
    assert again.load_seconds is None
    assert again.bench_day == dataset.bench_day
    assert again.largest == dataset.largest
    assert again.counts == dataset.counts


# The rows as the sweepers see them: updated_at left out, which the database moves on every UPDATE (the rearm's too).
STATE_SQL = """
SELECT (SELECT md5(string_agg((to_jsonb(c) - 'updated_at')::text, ',' ORDER BY id)) FROM callbacks_callback c),
       (SELECT md5(string_agg((to_jsonb(c) - 'updated_at')::text, ',' ORDER BY id)) FROM complaints_complaint c),
       (SELECT count(*) FROM callbacks_callbackattempt), (SELECT count(*) FROM aftercare_warrantyreminder),
       (SELECT count(*) FROM complaints_complaintentry), (SELECT count(*) FROM complaints_complaintescalation),
       (SELECT count(*) FROM outbox_notification), (SELECT count(*) FROM outbox_outboxevent),
       (SELECT count(*) FROM audit_auditevent)
"""


def test_rearm_puts_a_real_sweep_back_and_is_idempotent(dataset, owner, django_db_blocker):
    from aftercare.services.reminders import warranty_reminders_send
    from callbacks.services.release import callbacks_release_due
    from complaints.services.escalation import complaints_escalate_overdue
    from renocrm.tenancy.context import tenant_context
    from renocrm.tenancy.models import Tenant

    def sweep():
        done = [0, 0, 0]
        with django_db_blocker.unblock(), _pointed_at(dataset.database):
            for firm in Tenant.objects.order_by("pk"):
                with tenant_context(firm):
                    done[0] += callbacks_release_due(now=dataset.sweep_now)
                    done[1] += warranty_reminders_send(today=dataset.bench_day)
                    done[2] += complaints_escalate_overdue(now=dataset.sweep_now)
        return done

    def state():
        owner.execute(STATE_SQL)
        return owner.fetchone()

    loaded = state()
    expected = [
        dataset.counts["due_callbacks"],
        dataset.counts["due_warranty_reminders"],
        dataset.counts["overdue_complaints"],
    ]
    assert sweep() == expected
    swept = state()
    assert swept != loaded
    with django_db_blocker.unblock():
        rearm_sweeps(dataset)
        assert state() == loaded
        rearm_sweeps(dataset)
        assert state() == loaded
    assert sweep() == expected
    assert state()[2:] == swept[2:]
    with django_db_blocker.unblock():
        rearm_sweeps(dataset)
    assert state() == loaded
