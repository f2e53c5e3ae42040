"""Load the bench dataset: many firms of very different sizes, written through the same tenancy rules as the
application, fast.

Every tenant row is written by the application role (``renocrm_app``: row-level security forced, WITH CHECK
on ``tenant_id``, composite ``(tenant_id, x_id)`` keys, the audit trigger on every insert) inside its firm's
transaction-local ``app.tenant_id``. PostgreSQL refuses ``COPY`` into a table with row-level security, so
each table's rows are copied into a TEMP staging table (no RLS) and moved with one
``INSERT INTO … SELECT … FROM staging`` per firm and table, in one transaction per firm. Two worker
processes load firms side by side (the machine has two cores); the per-firm settings, staff and API keys
go through the application's own services and models.

Sizes (``scale`` multiplies them all; 1.0 is the default of ``make bench``): 500 firms with a Zipf-like
size spread (the largest ~50,000 customers, many with a few hundred), ~450k customers, ~550k leads,
~200k projects with contracts, worksites, phases, progress updates, inspections and handovers, ~800k
callbacks, ~20k complaints, the coverages of every handed-over project.

Sweeper fixtures, relative to ``bench_day`` (the load day in Asia/Shanghai; run the sweeps on that day or
pass ``dataset.sweep_now`` / ``bench_day`` to them): exactly ``counts["due_callbacks"]`` callbacks are
scheduled and due by then (10,000 at scale 1; the most recent due ones, as after a beat outage),
``counts["due_warranty_reminders"]`` coverage reminders fall due on the day, ``counts["overdue_complaints"]``
complaints are past a clock. ``rearm_sweeps(dataset)`` puts exactly those rows back as they were.

By hand: ``python -m bench.load --scale 0.01 [--force] [--database NAME]``.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import multiprocessing
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, datetime
from datetime import time as dtime
from zoneinfo import ZoneInfo

BENCH_ZONE = ZoneInfo("Asia/Shanghai")
DEFAULT_DATABASE = "renocrm_bench"
TEMPLATE_DATABASE = "renocrm_bench_template"
PASSWORD = "bench-Renovate-2026"
STAFF_EMAIL_DOMAIN = "@bench.renocrm.test"
LOAD_REQUEST_ID = "bench-load"
WORKERS = 2

# At scale 1.0.
FIRMS = 500
CUSTOMERS = 450_000
LEADS = 550_000
PROJECTS = 200_000
COMPLAINTS = 20_000
LARGEST_CUSTOMERS = 50_000
DUE_CALLBACKS = 10_000
OVERDUE_COMPLAINTS = 400
SMALL_FIRM_CUSTOMERS = 300

# What the partner API calls of the bench need (lead list/detail/create, worksite progress, callbacks) —
# the key gets every scope, so nothing it is asked for is refused.
API_RATE = "1000000/min"

# Tables the sweeps write or change, for rearm_sweeps.
SWEPT_TABLES = (
    "callbacks_callback",
    "callbacks_callbacksettings",
    "callbacks_callbackattempt",
    "aftercare_warrantyreminder",
    "complaints_complaint",
    "complaints_complaintentry",
    "complaints_complaintescalation",
)


@dataclass
class FirmAccess:
    """One firm the runner drives through the real application.

    ``api_key`` goes in the header ``Authorization: Api-Key <api_key>``; every user of the firm signs in
    with ``password`` (hashed with PBKDF2, Django's default hasher: it verifies under any settings whose
    ``PASSWORD_HASHERS`` include it, which ``renocrm.settings.test`` does not).
    """

    tenant_id: int
    slug: str
    customers: int
    api_key: str
    admin_username: str
    cs_username: str
    sales_username: str
    password: str
    lead_ids: list[int]
    worksite_ids: list[int]


@dataclass
class Dataset:
    database: str
    scale: float
    bench_day: date
    load_seconds: float | None  # None when an already-loaded dataset was reused
    counts: dict[str, int]
    largest: FirmAccess
    small: FirmAccess

    @property
    def sweep_now(self) -> datetime:
        """Noon of the bench day in Asia/Shanghai: the ``now`` to give the sweepers when timing them on a
        later day (``callbacks_release_due(now=…)``, ``complaints_escalate_overdue(now=…)``,
        ``warranty_reminders_send(today=bench_day)``)."""
        return datetime.combine(self.bench_day, dtime(12), tzinfo=BENCH_ZONE)


# Sizes -----------------------------------------------------------------------------------------------------------


def _zipf_exponent() -> float:
    """The exponent that gives the largest of 500 firms its 50,000 of 450,000 customers."""
    target = LARGEST_CUSTOMERS / CUSTOMERS
    low, high = 0.1, 3.0
    for _ in range(60):
        mid = (low + high) / 2
        share = 1 / sum(1 / k**mid for k in range(1, FIRMS + 1))
        low, high = (mid, high) if share < target else (low, mid)
    return (low + high) / 2


def _apportion(total: int, weights: list[float]) -> list[int]:
    """``total`` split in proportion to ``weights``, exactly (largest remainder)."""
    whole = sum(weights)
    raw = [total * w / whole for w in weights]
    parts = [math.floor(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)[: total - sum(parts)]:
        parts[i] += 1
    return parts


def firm_sizes(scale: float) -> list[dict]:
    n = max(3, round(FIRMS * scale))
    a = _zipf_exponent()
    weights = [1 / k**a for k in range(1, n + 1)]
    customers = [max(20, c) for c in _apportion(round(CUSTOMERS * scale), weights)]
    shares = [float(c) for c in customers]
    leads = _apportion(round(LEADS * scale), shares)
    projects = _apportion(round(PROJECTS * scale), shares)
    complaints = _apportion(round(COMPLAINTS * scale), shares)
    due = _apportion(max(3, round(DUE_CALLBACKS * scale)), [float(p) for p in projects])
    overdue = _apportion(max(3, round(OVERDUE_COMPLAINTS * scale)), shares)
    return [
        {
            "customers": customers[i],
            "leads": max(leads[i], customers[i]),
            "projects": min(projects[i], customers[i]),
            "complaints": max(complaints[i], overdue[i] * 2),
            "due_callbacks": due[i],
            "overdue_complaints": overdue[i],
        }
        for i in range(n)
    ]


def staff_counts(customers: int) -> dict[str, int]:
    return {
        "admin": 1,
        "sales": max(1, customers // 2500),
        "designer": max(1, customers // 2000),
        "project_manager": max(1, customers // 2500),
        "qc": max(1, customers // 5000),
        "customer_service": max(1, customers // 4000),
        "finance": 1,
    }


# Connections -----------------------------------------------------------------------------------------------------


def _say(message: str) -> None:
    print(f"[bench.load {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _params(alias: str, database: str) -> dict:
    from django.conf import settings

    d = settings.DATABASES[alias]
    return {
        "dbname": database,
        "user": d["USER"],
        "password": d.get("PASSWORD") or None,
        "host": d.get("HOST") or None,
        "port": d.get("PORT") or None,
    }


def _connect(alias: str, database: str, *, autocommit: bool = True):
    import psycopg2

    conn = psycopg2.connect(**_params(alias, database))
    conn.autocommit = autocommit
    return conn


@contextmanager
def _pointed_at(database: str):
    """Point Django's ``default`` and ``owner`` connections at ``database`` for the block (a no-op when they
    already are), so the services that seed firms write into the bench database."""
    from django.db import connections

    saved = {alias: connections[alias].settings_dict["NAME"] for alias in ("default", "owner")}
    if all(name == database for name in saved.values()):
        yield
        return
    for alias in saved:
        connections[alias].close()
        connections[alias].settings_dict["NAME"] = database
    try:
        yield
    finally:
        for alias, name in saved.items():
            connections[alias].close()
            connections[alias].settings_dict["NAME"] = name


def _database_exists(database: str) -> bool:
    conn = _connect("owner", "postgres")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
            return cur.fetchone() is not None
    finally:
        conn.close()


def _drop_database(database: str) -> None:
    from psycopg2 import sql

    conn = _connect("owner", "postgres")
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
    finally:
        conn.close()


def _migrate(database: str) -> None:
    from django.core.management import call_command

    with _pointed_at(database):
        call_command("migrate", database="owner", interactive=False, verbosity=0)


def _create_database(database: str) -> None:
    """A fresh, migrated database: copied from a migrated template (a copy is much quicker than running
    every migration), then migrated in case the code has migrations the template lacks."""
    from psycopg2 import sql

    conn = _connect("owner", "postgres")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [TEMPLATE_DATABASE])
            if cur.fetchone() is None:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE_DATABASE)))
        _migrate(TEMPLATE_DATABASE)
        for attempt in range(20):
            try:
                with conn.cursor() as cur:
                    cur.execute(
                        sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                            sql.Identifier(database), sql.Identifier(TEMPLATE_DATABASE)
                        )
                    )
                break
            except Exception as error:  # another process is copying or migrating the template right now
                if "being accessed by other users" not in str(error) or attempt == 19:
                    raise
                time.sleep(1)
    finally:
        conn.close()
    _migrate(database)


# The marker ------------------------------------------------------------------------------------------------------

MARKER_DDL = """
CREATE TABLE IF NOT EXISTS bench_dataset (
    id integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    scale double precision NOT NULL,
    bench_day date NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    load_seconds double precision NOT NULL,
    counts jsonb NOT NULL,
    access jsonb NOT NULL
)
"""


def _read_marker(database: str) -> dict | None:
    if not _database_exists(database):
        return None
    conn = _connect("owner", database)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass('bench_dataset')")
            if cur.fetchone()[0] is None:
                return None
            cur.execute("SELECT scale, bench_day, load_seconds, counts, access FROM bench_dataset WHERE id = 1")
            row = cur.fetchone()
    finally:
        conn.close()
    if row is None:
        return None
    scale, bench_day, load_seconds, counts, access = row
    return {"scale": scale, "bench_day": bench_day, "counts": counts, "access": access}


def _dataset_from(database: str, marker: dict, load_seconds: float | None) -> Dataset:
    return Dataset(
        database=database,
        scale=marker["scale"],
        bench_day=marker["bench_day"],
        load_seconds=load_seconds,
        counts=dict(marker["counts"]),
        largest=FirmAccess(**marker["access"]["largest"]),
        small=FirmAccess(**marker["access"]["small"]),
    )


# Entry points ----------------------------------------------------------------------------------------------------


def ensure_dataset(scale: float, *, force: bool = False, database: str = DEFAULT_DATABASE) -> Dataset:
    """The bench database loaded at ``scale``: reused when it already holds that scale (``load_seconds``
    None), else (or with ``force``) dropped, recreated, migrated and loaded. Django must be set up; its
    ``default`` (application role) and ``owner`` settings give the users and server, ``database`` the name."""
    marker = None if force else _read_marker(database)
    if marker is not None and abs(marker["scale"] - scale) < 1e-9:
        _say(f"reusing {database} (scale {scale}, bench day {marker['bench_day']})")
        # The code may have gained migrations (an index, say) since the data was loaded.
        _migrate(database)
        return _dataset_from(database, marker, None)
    started = time.monotonic()
    from django.db import connections

    # Dropping the database ends every session on it, this process's own included.
    connections.close_all()
    _drop_database(database)
    _create_database(database)
    _say(f"{database} created and migrated in {time.monotonic() - started:.1f}s")
    with _pointed_at(database):
        dataset = _load(database, scale, started)
    return dataset


def _bench_day() -> date:
    return datetime.now(BENCH_ZONE).date()


def _load(database: str, scale: float, started: float) -> Dataset:
    from django.db import connections

    bench_day = _bench_day()
    sizes = firm_sizes(scale)
    _say(f"scale {scale}: {len(sizes)} firms, bench day {bench_day}")
    firms = _create_firms(sizes)
    t0 = time.monotonic()
    plans = _firm_plans(database, firms, sizes, bench_day)
    _say(f"firm settings, plans and staff ready in {time.monotonic() - t0:.1f}s")
    connections.close_all()

    t0 = time.monotonic()
    results, table_stats = _run_workers(database, plans)
    load_rows_seconds = time.monotonic() - t0
    _say(f"tenant rows written in {load_rows_seconds:.1f}s")

    by_tenant = {result.tenant_id: result for result in results}
    largest, small = firms[0], firms[_small_index(sizes)]
    access = {
        "largest": asdict(_firm_access(largest, sizes[0]["customers"], by_tenant[largest["tenant_id"]])),
        "small": asdict(_firm_access(small, sizes[_small_index(sizes)]["customers"], by_tenant[small["tenant_id"]])),
    }

    t0 = time.monotonic()
    owner = _connect("owner", database)
    with owner.cursor() as cur:
        cur.execute("ANALYZE")
    _say(f"ANALYZE in {time.monotonic() - t0:.1f}s")
    counts = _table_counts(owner)
    counts["firms"] = len(firms)
    counts["due_callbacks"] = sum(r.due_callbacks for r in results)
    counts["due_warranty_reminders"] = sum(r.due_reminders for r in results)
    counts["overdue_complaints"] = sum(r.overdue_complaints for r in results)
    load_seconds = time.monotonic() - started
    _snapshot_sweeps(owner, bench_day)
    with owner.cursor() as cur:
        cur.execute(MARKER_DDL)
        cur.execute(
            "INSERT INTO bench_dataset (id, scale, bench_day, load_seconds, counts, access)"
            " VALUES (1, %s, %s, %s, %s, %s)"
            " ON CONFLICT (id) DO UPDATE SET scale = excluded.scale, bench_day = excluded.bench_day,"
            " loaded_at = now(), load_seconds = excluded.load_seconds, counts = excluded.counts,"
            " access = excluded.access",
            [scale, bench_day, load_seconds, json.dumps(counts), json.dumps(access)],
        )
    owner.close()
    _print_table_stats(table_stats)
    _say(f"loaded {database} at scale {scale} in {load_seconds:.1f}s")
    marker = {"scale": scale, "bench_day": bench_day, "counts": counts, "access": access}
    return _dataset_from(database, marker, load_seconds)


def _small_index(sizes: list[dict]) -> int:
    return min(range(1, len(sizes)), key=lambda i: (abs(sizes[i]["customers"] - SMALL_FIRM_CUSTOMERS), i))


def _table_counts(owner) -> dict[str, int]:
    """Exact row counts of every non-empty application table."""
    with owner.cursor() as cur:
        cur.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'bench\\_%%'"
            " ORDER BY tablename"
        )
        counts = {}
        for (table,) in cur.fetchall():
            cur.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 — names from the catalogue
            count = cur.fetchone()[0]
            if count:
                counts[table] = count
    return counts


# Firms, staff and settings (few rows: the application's own models and services) --------------------------------

FIRM_WORDS = ("美家", "安居", "尚品", "匠心", "筑梦", "宜居", "锦程", "东易", "业之峰", "名雕", "圣都", "星艺", "龙发")


def _create_firms(sizes: list[dict]) -> list[dict]:
    from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password

    from renocrm.accounts.models import Membership, User
    from renocrm.tenancy.models import Tenant

    from .dataset import CITIES, GIVEN, SURNAMES

    tenants = Tenant.objects.bulk_create(
        [
            Tenant(
                name=f"{CITIES[i % len(CITIES)][0][:2]}{FIRM_WORDS[i % len(FIRM_WORDS)]}装饰{i + 1:03d}",
                slug=f"firm-{i + 1:03d}",
                phone=f"400-8{i % 1000:03d}-{(i * 7919) % 10000:04d}",
            )
            for i in range(len(sizes))
        ]
    )
    # Django's default hasher whatever this process's settings say, so the password verifies under the
    # settings the bench serves with (which need not be the ones that loaded the data).
    password = make_password(PASSWORD, hasher=PBKDF2PasswordHasher())
    users, memberships, firms = [], [], []
    for tenant, size in zip(tenants, sizes, strict=True):
        staff = {}
        for role, count in staff_counts(size["customers"]).items():
            short = {"customer_service": "cs", "project_manager": "pm"}.get(role, role)
            for n in range(count):
                username = f"{tenant.slug}-{short}" if n == 0 else f"{tenant.slug}-{short}-{n + 1}"
                k = len(users)
                users.append(
                    User(
                        username=username,
                        password=password,
                        name=SURNAMES[k % len(SURNAMES)] + GIVEN[(k * 7) % len(GIVEN)],
                        phone=f"139{(k * 104729 + 12345) % 10**8:08d}",
                        email=f"{username}{STAFF_EMAIL_DOMAIN}",
                    )
                )
                staff.setdefault(role, []).append(k)
        firms.append({"tenant_id": tenant.pk, "slug": tenant.slug, "tenant": tenant, "staff_index": staff})
    users = User.objects.bulk_create(users, batch_size=2000)
    for firm in firms:
        firm["staff"] = {role: [users[k].pk for k in ks] for role, ks in firm.pop("staff_index").items()}
        for role, ids in firm["staff"].items():
            memberships.extend(Membership(user_id=uid, tenant_id=firm["tenant_id"], roles=[role]) for uid in ids)
    Membership.objects.bulk_create(memberships, batch_size=2000)
    _say(f"{len(firms)} firms, {len(users)} staff users")
    return firms


def _seed_firm(firm: dict, index: int) -> dict:
    """The firm's own copies of the product's defaults, made by the services that make them on first use;
    some firms have edited their callback plan (an SMS survey after a month, no six-month call)."""
    from aftercare.services.policy import aftercare_settings_get, coverage_rules_get
    from callbacks.models import CallbackStep
    from callbacks.services.plan import callback_settings_get, plan_save, plan_steps
    from complaints.services.settings import complaint_settings_get
    from contracts.services.signing import contract_settings_get
    from leads.services.pipeline import lead_settings_get
    from renocrm.tenancy.context import tenant_context
    from worksites.services.handover import acceptance_template_get
    from worksites.services.schedule import phase_templates_get

    with tenant_context(firm["tenant"], request_id=LOAD_REQUEST_ID):
        lead_settings_get()
        contract_settings_get()
        callback_settings_get()
        acceptance_template_get()
        template = phase_templates_get()
        rules = coverage_rules_get()
        aftercare = aftercare_settings_get()
        complaint = complaint_settings_get()
        steps = plan_steps()
        sms_month, short_plan = index % 3 == 2, index % 5 in (1, 3)
        if sms_month or short_plan:
            rows = []
            for step in steps:
                if short_plan and step.unit == CallbackStep.Unit.MONTHS and step.offset == 6:
                    continue
                method = (
                    "sms" if sms_month and step.unit == CallbackStep.Unit.MONTHS and step.offset == 1 else step.method
                )
                rows.append(
                    {
                        "id": step.pk,
                        "name": step.name,
                        "anchor": step.anchor,
                        "phase_kind": step.phase_kind,
                        "offset": step.offset,
                        "unit": step.unit,
                        "method": method,
                        "is_active": step.is_active,
                    }
                )
            steps = plan_save(rows=rows)
    return {
        "template": [
            (t.position, t.kind, t.name, t.duration_days, t.requires_acceptance)
            for t in sorted(template, key=lambda t: t.position)
        ],
        "rules": [
            (rule.pk, rule.name, rule.area, rule.trade, rule.months, bool(rule.trade or rule.keywords))
            for rule in rules
            if rule.is_active
        ],
        "steps": [
            (s.pk, s.name, s.unit, s.offset, s.method)
            for s in steps
            if s.is_active and s.anchor == CallbackStep.Anchor.HANDOVER
        ],
        "reminder_days": list(aftercare.warranty_reminder_days),
        "complaint_hours": (
            complaint.level1_respond_hours,
            complaint.level1_resolve_hours,
            complaint.level2_respond_hours,
            complaint.level2_resolve_hours,
        ),
    }


def _firm_plans(database: str, firms: list[dict], sizes: list[dict], bench_day: date):
    from .dataset import FirmPlan

    plans = []
    for index, (firm, size) in enumerate(zip(firms, sizes, strict=True)):
        seeded = _seed_firm(firm, index)
        plans.append(
            FirmPlan(
                index=index,
                tenant_id=firm["tenant_id"],
                slug=firm["slug"],
                bench_day=bench_day.toordinal(),
                seed=1000 + index,
                staff=firm["staff"],
                admin_id=firm["staff"]["admin"][0],
                **size,
                **seeded,
            )
        )
    return plans


def _firm_access(firm: dict, customers: int, result) -> FirmAccess:
    from renocrm.accounts.roles import SCOPES
    from renocrm.api.services import api_key_create
    from renocrm.tenancy.context import tenant_context

    with tenant_context(firm["tenant"], request_id=LOAD_REQUEST_ID):
        _key, raw_key = api_key_create(name="bench load generator", scopes=list(SCOPES), rate=API_RATE)
    slug = firm["slug"]
    return FirmAccess(
        tenant_id=firm["tenant_id"],
        slug=slug,
        customers=customers,
        api_key=raw_key,
        admin_username=f"{slug}-admin",
        cs_username=f"{slug}-cs",
        sales_username=f"{slug}-sales",
        password=PASSWORD,
        lead_ids=sorted(result.sample_leads),
        worksite_ids=sorted(result.sample_worksites)[:50],
    )


# The bulk rows (two processes, raw psycopg2 as the application role) --------------------------------------------


def _columns(columns):
    from psycopg2 import sql

    return sql.SQL(", ").join(sql.Identifier(c) for c in columns)


class _Writer:
    """One worker's connection: reserves ids, stages each table's rows with COPY and moves them into the
    table with the firm set."""

    def __init__(self, params: dict, worker: int):
        import psycopg2

        self.conn = psycopg2.connect(**params)
        self.worker = worker
        self.cur = self.conn.cursor()
        self.cur.execute("SET synchronous_commit = off")
        self.cur.execute("SET work_mem = '64MB'")
        self.conn.commit()
        self.sequences: dict[str, str] = {}
        self.staging: dict[tuple, str] = {}
        self.stats: dict[str, list[float]] = {}

    def take_ids(self, table: str, n: int) -> int:
        """The first of ``n`` consecutive ids of ``table``'s sequence (the other worker waits meanwhile)."""
        if n == 0:
            return 0
        cur = self.cur
        sequence = self.sequences.get(table)
        if sequence is None:
            cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            sequence = self.sequences[table] = cur.fetchone()[0]
        cur.execute("SELECT pg_advisory_lock(774411)")
        try:
            cur.execute(
                "SELECT min(v), max(v) FROM (SELECT nextval(%s) AS v FROM generate_series(1, %s)) s", [sequence, n]
            )
            low, high = cur.fetchone()
        finally:
            cur.execute("SELECT pg_advisory_unlock(774411)")
        if high - low + 1 != n:
            raise RuntimeError(f"{table}: ids {low}..{high} are not {n} consecutive ids")
        return low

    def _stage(self, table: str, columns: tuple[str, ...]) -> str:
        from psycopg2 import sql

        key = (table, columns)
        name = self.staging.get(key)
        if name is None:
            name = f"bench_stage_{len(self.staging)}"
            self.cur.execute(
                sql.SQL("CREATE TEMP TABLE {} ON COMMIT DELETE ROWS AS SELECT {} FROM {} WITH NO DATA").format(
                    sql.Identifier(name), _columns(columns), sql.Identifier(table)
                )
            )
            self.staging[key] = name
        return name

    def write(self, batch) -> None:
        from psycopg2 import sql

        if not batch.rows:
            return
        started = time.monotonic()
        stage = self._stage(batch.table, batch.columns)
        buffer = io.StringIO()
        buffer.writelines("\t".join("\\N" if v is None else str(v) for v in row) + "\n" for row in batch.rows)
        buffer.seek(0)
        cols, target, staged = _columns(batch.columns), sql.Identifier(batch.table), sql.Identifier(stage)
        self.cur.copy_expert(sql.SQL("COPY {} ({}) FROM STDIN").format(staged, cols).as_string(self.cur), buffer)
        if batch.then == "update":
            assignments = sql.SQL(", ").join(
                sql.SQL("{} = s.{}").format(sql.Identifier(c), sql.Identifier(c)) for c in batch.columns if c != "id"
            )
            self.cur.execute(
                sql.SQL("UPDATE {} t SET {} FROM {} s WHERE t.id = s.id").format(target, assignments, staged)
            )
        else:
            self.cur.execute(sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(target, cols, cols, staged))
        stat = self.stats.setdefault(batch.table, [0, 0.0])
        stat[0] += len(batch.rows) if batch.then is None else 0
        stat[1] += time.monotonic() - started

    def load_firm(self, plan):
        from .dataset import Batch, generate_firm

        cur = self.cur
        cur.execute(
            "SELECT set_config('app.tenant_id', %s, true), set_config('app.request_id', %s, true)",
            [str(plan.tenant_id), LOAD_REQUEST_ID],
        )
        result = None
        generating = time.monotonic()
        for item in generate_firm(plan, self.take_ids):
            if isinstance(item, Batch):
                self.write(item)
            else:
                result = item
        self.conn.commit()
        return result, time.monotonic() - generating


def _worker(args):
    params, worker, plans = args
    writer = _Writer(params, worker)
    results = []
    rows_before = 0
    last_report = time.monotonic()
    for n, plan in enumerate(plans, start=1):
        result, seconds = writer.load_firm(plan)
        results.append(result)
        rows = sum(int(s[0]) for s in writer.stats.values())
        if plan.customers >= 5000 or time.monotonic() - last_report > 10 or n == len(plans):
            _say(
                f"worker {worker}: {n}/{len(plans)} firms, last {plan.slug} ({plan.customers} customers) in "
                f"{seconds:.1f}s, {rows:,} rows so far (+{rows - rows_before:,})"
            )
            rows_before, last_report = rows, time.monotonic()
    writer.conn.close()
    return results, writer.stats


def _run_workers(database: str, plans: list):
    # The biggest firms first, each to the worker with the least work so far.
    queues: list[list] = [[] for _ in range(WORKERS)]
    load = [0] * WORKERS
    for plan in sorted(plans, key=lambda p: p.customers, reverse=True):
        w = load.index(min(load))
        queues[w].append(plan)
        load[w] += plan.customers
    params = _params("default", database)
    jobs = [(params, w + 1, queue) for w, queue in enumerate(queues) if queue]
    context = multiprocessing.get_context("fork")
    with context.Pool(len(jobs)) as pool:
        outputs = pool.map(_worker, jobs)
    results, stats = [], {}
    for worker_results, worker_stats in outputs:
        results.extend(worker_results)
        for table, (rows, seconds) in worker_stats.items():
            total = stats.setdefault(table, [0, 0.0])
            total[0] += rows
            total[1] += seconds
    return results, stats


def _print_table_stats(stats: dict) -> None:
    _say("rows and worker-seconds per table (COPY + INSERT…SELECT with RLS and the audit trigger):")
    for table, (rows, seconds) in sorted(stats.items(), key=lambda item: -item[1][1]):
        rate = rows / seconds if seconds and rows else 0
        print(f"  {table:38s} {int(rows):>10,} rows {seconds:8.1f}s {rate:>10,.0f} rows/s", flush=True)


# Sweeps: what they will change, and putting it back ---------------------------------------------------------------

SNAPSHOT_SQL = """
DROP TABLE IF EXISTS bench_sweep_callbacks, bench_sweep_complaints, bench_sweep_settings, bench_watermarks;
CREATE TABLE bench_sweep_callbacks AS
    SELECT id, tenant_id, status, assigned_to_id, released_at, attempts, next_attempt_at
      FROM callbacks_callback WHERE status = 'scheduled' AND due_on <= %(day)s;
CREATE TABLE bench_sweep_complaints AS
    SELECT id, tenant_id, status, level, owner_id, level_started_at, respond_by, resolve_by, responded_at
      FROM complaints_complaint WHERE status IN ('open', 'in_progress');
CREATE TABLE bench_sweep_settings AS SELECT id, last_assigned_id FROM callbacks_callbacksettings;
CREATE TABLE bench_watermarks AS
    SELECT 'callbacks_callbackattempt'::text AS name, coalesce(max(id), 0) AS id FROM callbacks_callbackattempt
    UNION ALL SELECT 'aftercare_warrantyreminder', coalesce(max(id), 0) FROM aftercare_warrantyreminder
    UNION ALL SELECT 'complaints_complaintentry', coalesce(max(id), 0) FROM complaints_complaintentry
    UNION ALL SELECT 'complaints_complaintescalation', coalesce(max(id), 0) FROM complaints_complaintescalation
    UNION ALL SELECT 'outbox_notification', coalesce(max(id), 0) FROM outbox_notification
    UNION ALL SELECT 'outbox_outboxevent', coalesce(max(id), 0) FROM outbox_outboxevent
    UNION ALL SELECT 'audit_auditevent', coalesce(max(id), 0) FROM audit_auditevent;
"""

REARM_SQL = """
UPDATE callbacks_callback c
   SET status = s.status, assigned_to_id = s.assigned_to_id, released_at = s.released_at, attempts = s.attempts,
       next_attempt_at = s.next_attempt_at, completed_at = NULL, completed_by_id = NULL, appointment_at = NULL,
       closed_reason = ''
  FROM bench_sweep_callbacks s
 WHERE c.id = s.id AND (c.status, c.assigned_to_id, c.released_at, c.attempts)
       IS DISTINCT FROM (s.status, s.assigned_to_id, s.released_at, s.attempts);
UPDATE callbacks_callbacksettings c SET last_assigned_id = s.last_assigned_id
  FROM bench_sweep_settings s WHERE c.id = s.id AND c.last_assigned_id IS DISTINCT FROM s.last_assigned_id;
DELETE FROM callbacks_callbackattempt
 WHERE id > (SELECT id FROM bench_watermarks WHERE name = 'callbacks_callbackattempt');
DELETE FROM aftercare_warrantyreminder
 WHERE id > (SELECT id FROM bench_watermarks WHERE name = 'aftercare_warrantyreminder');
UPDATE complaints_complaint c
   SET status = s.status, level = s.level, owner_id = s.owner_id, level_started_at = s.level_started_at,
       respond_by = s.respond_by, resolve_by = s.resolve_by, responded_at = s.responded_at
  FROM bench_sweep_complaints s
 WHERE c.id = s.id AND (c.status, c.level, c.owner_id, c.level_started_at, c.respond_by, c.resolve_by, c.responded_at)
       IS DISTINCT FROM
       (s.status, s.level, s.owner_id, s.level_started_at, s.respond_by, s.resolve_by, s.responded_at);
DELETE FROM complaints_complaintentry
 WHERE id > (SELECT id FROM bench_watermarks WHERE name = 'complaints_complaintentry');
DELETE FROM complaints_complaintescalation
 WHERE id > (SELECT id FROM bench_watermarks WHERE name = 'complaints_complaintescalation');
DELETE FROM outbox_webhookdelivery d USING outbox_outboxevent e
 WHERE d.event_id = e.id AND e.id > (SELECT id FROM bench_watermarks WHERE name = 'outbox_outboxevent')
   AND e.event_type IN ('warranty.expiring', 'complaint.escalated');
DELETE FROM outbox_outboxevent
 WHERE id > (SELECT id FROM bench_watermarks WHERE name = 'outbox_outboxevent')
   AND event_type IN ('warranty.expiring', 'complaint.escalated');
DELETE FROM outbox_notification
 WHERE id > (SELECT id FROM bench_watermarks WHERE name = 'outbox_notification')
   AND (idempotency_key LIKE 'callback:%%' OR idempotency_key LIKE 'warranty-reminder:%%'
        OR idempotency_key LIKE 'complaint-escalated:%%');
DELETE FROM audit_auditevent
 WHERE id > (SELECT id FROM bench_watermarks WHERE name = 'audit_auditevent')
   AND table_name = ANY (%(tables)s);
"""


def _snapshot_sweeps(owner, bench_day: date) -> None:
    with owner.cursor() as cur:
        cur.execute(SNAPSHOT_SQL, {"day": bench_day})


def rearm_sweeps(dataset: Dataset) -> None:
    """Put the rows the sweepers act on back as they were after the load: the due callbacks scheduled and
    unassigned again, the overdue complaints back at their level and clocks, and the rows the sweeps wrote
    (attempts, reminders, handling-log entries, escalations, their notifications and outbox events, and
    the audit trail of all that) deleted. Runs as the owner (across all firms); safe to run any number of
    times."""
    conn = _connect("owner", dataset.database, autocommit=False)
    try:
        with conn.cursor() as cur:
            cur.execute(REARM_SQL, {"tables": list(SWEPT_TABLES) + ["outbox_notification", "outbox_outboxevent"]})
        conn.commit()
    finally:
        conn.close()


# Command line ----------------------------------------------------------------------------------------------------


def _setup_django(database: str) -> None:
    os.environ.setdefault("DATABASE_URL", f"postgres://renocrm_app:renocrm_app@127.0.0.1:5432/{database}")
    os.environ.setdefault("DATABASE_OWNER_URL", f"postgres://postgres@127.0.0.1:5432/{database}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renocrm.settings.test")
    import django

    django.setup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1.0")))
    parser.add_argument("--force", action="store_true", help="reload even if the database holds this scale")
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    args = parser.parse_args(argv)
    _setup_django(args.database)
    dataset = ensure_dataset(args.scale, force=args.force, database=args.database)
    print(f"database {dataset.database}, scale {dataset.scale}, bench day {dataset.bench_day}")
    print(
        "load time: "
        + (f"{dataset.load_seconds:.1f}s" if dataset.load_seconds is not None else "reused (not loaded now)")
    )
    for table, count in sorted(dataset.counts.items()):
        print(f"  {table:38s} {count:>12,}")
    for label, firm in (("largest", dataset.largest), ("small", dataset.small)):
        print(
            f"{label}: {firm.slug} (tenant {firm.tenant_id}, {firm.customers} customers), users "
            f"{firm.admin_username} / {firm.cs_username} / {firm.sales_username}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["Dataset", "FirmAccess", "ensure_dataset", "rearm_sweeps"]
