"""Fault drills against real servers: gunicorn serving the production settings, a private PostgreSQL that is
restarted under load, a private Redis that is stopped, PgBouncer in transaction mode shared by two firms,
and two minutes of mixed load. Helpers: tests/ops/servers.py; what each drill shows: docs/operations.md."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import psycopg2
import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from renocrm.celery import app as celery_app
from renocrm.outbox import services as outbox
from renocrm.outbox.models import OutboxEvent, WebhookDelivery
from renocrm.tenancy.context import tenant_context
from tests.factories import ApiKeyFactory, MembershipFactory, TenantFactory
from tests.leads.factories import LeadFactory
from tests.ops.servers import (
    PG_BIN,
    ROOT,
    CeleryWorker,
    Gunicorn,
    PrivatePgBouncer,
    PrivatePostgres,
    PrivateRedis,
    Workdir,
    request,
    server_environment,
    url_of,
    wait_until,
)
from tests.outbox.test_services import Receiver

pytestmark = pytest.mark.django_db(transaction=True)

_mobiles = itertools.count(1)


@dataclass
class Firm:
    """A firm of the drill with what a client needs to act for it."""

    tenant: object
    api_key: str
    session: str
    lead_ids: set[int] = field(default_factory=set)

    @property
    def api(self) -> dict:
        return {"Authorization": f"Api-Key {self.api_key}"}

    @property
    def staff(self) -> dict:
        return {"Cookie": f"sessionid={self.session}"}


def firm(slug: str, *, leads: int = 0) -> Firm:
    """A firm with an API key, a signed-in admin (a session the drill's servers accept: same SECRET_KEY) and
    ``leads`` leads, all committed so the servers see them."""
    tenant = TenantFactory(name=f"Firm {slug}", slug=slug)
    with tenant_context(tenant):
        key = ApiKeyFactory()
        ids = {LeadFactory().pk for _ in range(leads)}
    user = MembershipFactory(tenant=tenant, role="admin").user
    session = SessionStore()
    session.update(
        {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
    )
    session.create()
    return Firm(tenant, key.raw_key, session.session_key, ids)


def new_lead(firm: Firm, base_url: str, *, key: str | None = None, mobile: str | None = None):
    mobile = mobile or f"139{os.getpid() % 1000:03d}{next(_mobiles):05d}"
    headers = {**firm.api, "Idempotency-Key": key or f"drill-{mobile}"}
    body = {"name": "演练客户", "mobile": mobile, "channel": "online"}
    return mobile, request(base_url, "POST", "/api/v1/leads/", body=body, headers=headers)


@pytest.fixture
def workdir():
    directory = Workdir("drill")
    yield directory.path
    directory.remove()


@pytest.fixture
def private_redis(workdir):
    redis = PrivateRedis(workdir).start()
    yield redis
    redis.stop()


def test_database_pooler_setting():
    """Behind PgBouncer (transaction mode) Django must not use server-side cursors; a typo stops the start."""

    def disables(pooler: str) -> subprocess.CompletedProcess:
        code = "import django; django.setup(); from django.conf import settings as s; "
        code += "print(s.DATABASES['default'].get('DISABLE_SERVER_SIDE_CURSORS', False))"
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "renocrm.settings.test", "DATABASE_POOLER": pooler}
        return subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, cwd=ROOT
        )

    assert disables("pgbouncer").stdout.strip() == "True"
    assert disables("").stdout.strip() == "False"
    refused = disables("pgpool")
    assert refused.returncode != 0 and "DATABASE_POOLER must be empty or 'pgbouncer'" in refused.stderr


# 1. PostgreSQL restarted while requests are in flight ----------------------------------------------------------


@pytest.fixture
def private_postgres():
    cluster = PrivatePostgres().start()
    yield cluster
    cluster.remove()


def copy_test_database(cluster: PrivatePostgres) -> tuple[str, str]:
    """The migrated test database (with the rows committed so far) into the private cluster, with the
    application role, as it would be after ``migrate``; faster than migrating a second time."""
    app = settings.DATABASES["default"]
    admin = psycopg2.connect(cluster.url())
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("CREATE DATABASE renocrm")
        cursor.execute(
            f"CREATE ROLE {app['USER']} LOGIN PASSWORD %s NOSUPERUSER NOBYPASSRLS NOINHERIT", [app["PASSWORD"]]
        )
    admin.close()
    owner = settings.DATABASES["owner"]
    dump = subprocess.Popen(
        [str(PG_BIN / "pg_dump"), "-h", owner["HOST"], "-p", str(owner["PORT"] or 5432), "-U", owner["USER"]]
        + ["-d", owner["NAME"]],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    restore = subprocess.run(
        [str(PG_BIN / "psql"), "-q", "-v", "ON_ERROR_STOP=1", cluster.url(database="renocrm")],
        stdin=dump.stdout,
        capture_output=True,
        text=True,
        timeout=120,
    )
    dump.stdout.close()
    assert dump.wait(timeout=60) == 0, dump.stderr.read().decode()
    assert restore.returncode == 0, restore.stderr
    return cluster.url(app["USER"], "renocrm", app["PASSWORD"]), cluster.url("postgres", "renocrm")


@dataclass
class Call:
    kind: str
    started: float
    status: int
    headers: dict
    body: bytes
    mobile: str = ""
    lead_id: int | None = None


def backoff(reply) -> None:
    # A well-behaved client waits before trying again (shorter than Retry-After, to keep the drill short).
    if reply.status == 503:
        time.sleep(0.25)


def drive(base_url: str, firm: Firm, stop: threading.Event, calls: list[Call], *, staff: bool) -> None:
    """One client: a staff page over and over, or a lead create (with an Idempotency-Key), the list and
    the new lead's detail, over and over."""
    while not stop.is_set():
        started = time.monotonic()
        if staff:
            reply = request(base_url, "GET", "/leads/", headers=firm.staff)
            calls.append(Call("page", started, reply.status, reply.headers, reply.body))
            backoff(reply)
            continue
        mobile, reply = new_lead(firm, base_url)
        lead_id = reply.json()["id"] if reply.status == 201 else None
        calls.append(Call("create", started, reply.status, reply.headers, reply.body, mobile, lead_id))
        backoff(reply)
        started = time.monotonic()
        reply = request(base_url, "GET", "/api/v1/leads/", headers=firm.api)
        calls.append(Call("list", started, reply.status, reply.headers, reply.body))
        if lead_id is not None:
            started = time.monotonic()
            reply = request(base_url, "GET", f"/api/v1/leads/{lead_id}/", headers=firm.api)
            calls.append(Call("detail", started, reply.status, reply.headers, reply.body))


def test_a_database_restart_answers_503_meanwhile_and_loses_no_acknowledged_write(
    private_postgres, private_redis, workdir
):
    drill = firm("restart")
    app_url, owner_url = copy_test_database(private_postgres)
    env = server_environment(
        secret_key=settings.SECRET_KEY, database_url=app_url, owner_url=owner_url, redis_url=private_redis.url
    )
    server = Gunicorn(env, workdir).start()
    calls: list[Call] = []
    stop = threading.Event()
    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            clients = [pool.submit(drive, server.base_url, drill, stop, calls, staff=n == 0) for n in range(6)]
            time.sleep(2)
            down_at = time.monotonic()
            private_postgres.stop("fast")  # in-flight transactions are cut off
            time.sleep(3)
            private_postgres.start()
            up_at = time.monotonic()
            time.sleep(3)
            stop.set()
            for client in clients:
                client.result(timeout=60)  # a client that raised (a broken connection) fails the drill
        # A client retries what was refused with the same Idempotency-Key.
        acknowledged = {call.mobile: call.lead_id for call in calls if call.kind == "create" and call.status == 201}
        for call in calls:
            if call.kind == "create" and call.status == 503:
                _, reply = new_lead(drill, server.base_url, mobile=call.mobile)
                assert reply.status in (200, 201), reply.body
                acknowledged[call.mobile] = reply.json()["id"]
    finally:
        stop.set()
        server.stop()
    log = server.log.read_text(errors="replace")

    statuses = Counter((call.kind, call.status) for call in calls)
    assert {status for _, status in statuses} <= {200, 201, 503}, f"unexpected answers: {statuses}"
    unavailable = [call for call in calls if call.status == 503]
    assert {call.kind for call in unavailable} >= {"create", "list", "page"}, f"no 503 during the outage: {statuses}"
    assert all(down_at - 1 <= call.started <= up_at for call in unavailable), "a 503 outside the outage"
    for call in unavailable:
        assert call.headers.get("Retry-After") == str(settings.SERVICE_UNAVAILABLE_RETRY_AFTER)
        if call.kind == "page":
            assert call.headers["Content-Type"].startswith("text/html") and b"<h1>" in call.body
        else:
            error = json.loads(call.body)
            assert error["error"]["status"] == 503 and error["error"]["code"] == "service_unavailable"
            assert error["request_id"] == call.headers["X-Request-ID"]
    after = [call for call in calls if call.started > up_at]
    assert len(after) > 20 and all(call.status in (200, 201) for call in after), "not serving after the restart"
    assert "Database unavailable, answered 503" in log
    assert "Internal Server Error" not in log and '"levelname": "ERROR"' not in log, log[-3000:]

    # Every create acknowledged with 201 is there, and the retries created nothing twice.
    with psycopg2.connect(owner_url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT c.mobile, l.id FROM leads_lead l JOIN leads_customer c ON c.id = l.customer_id")
        stored = cursor.fetchall()
    connection.close()
    assert Counter(mobile for mobile, _ in stored) == Counter(acknowledged.keys()), "a lead lost or created twice"
    assert dict(stored) == acknowledged


# 2. Redis stopped ------------------------------------------------------------------------------------------


@pytest.fixture
def receiver():
    """A webhook receiver on loopback that counts every delivery."""
    made = Receiver()
    yield made
    made.close()


def send_sweeps(redis_url: str) -> None:
    """What beat sends every minute, sent now to the drill's broker."""
    eager, celery_app.conf.task_always_eager = celery_app.conf.task_always_eager, False
    try:
        with celery_app.connection_for_write(redis_url) as connection:
            for name in ("renocrm.outbox.tasks.sweep_outbox", "renocrm.outbox.tasks.sweep_webhook_deliveries"):
                celery_app.send_task(name, connection=connection)
    finally:
        celery_app.conf.task_always_eager = eager


@pytest.mark.worker
def test_with_redis_stopped_pages_and_the_api_serve_and_events_go_out_once_it_is_back(
    private_redis, receiver, workdir, settings
):
    # The receiver listens on plain http on loopback: allowed deliberately, here and in the worker.
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    drill = firm("redis")
    with tenant_context(drill.tenant):
        receiver.secret = outbox.webhook_endpoint_create(url=receiver.url).secret
    env = server_environment(
        secret_key=settings.SECRET_KEY,
        database_url=url_of(settings.DATABASES["default"]),
        owner_url=url_of(settings.DATABASES["owner"]),
        redis_url=private_redis.url,
        # Everything the outage left behind is due at once: the drill does not wait out the minute.
        OUTBOX_SWEEP_GRACE_SECONDS="0",
        WEBHOOK_ALLOW_HTTP="true",
        WEBHOOK_ALLOW_PRIVATE_NETWORKS="true",
    )
    server = Gunicorn(env, workdir).start()
    worker = CeleryWorker(env, workdir)
    try:
        worker.start()

        def delivered() -> Counter:
            return Counter(call["body"]["id"] for call in receiver.calls)

        def events() -> list[int]:
            with tenant_context(drill.tenant):
                return list(OutboxEvent.objects.order_by("id").values_list("id", flat=True))

        _, reply = new_lead(drill, server.base_url)
        assert reply.status == 201, reply.body
        wait_until(lambda: set(delivered()) == set(events()), what="the first lead.created delivery", log=worker.log)

        private_redis.stop()
        created = []
        for _ in range(5):
            _, reply = new_lead(drill, server.base_url)
            assert reply.status == 201, reply.body
            created.append(reply.json()["id"])
        for path, headers in [
            ("/api/v1/leads/", drill.api),
            (f"/api/v1/leads/{created[0]}/", drill.api),
            ("/leads/", drill.staff),
            (f"/leads/{created[0]}/", drill.staff),
        ]:
            reply = request(server.base_url, "GET", path, headers=headers)
            assert reply.status == 200, (path, reply.status, reply.body[:300])
        with tenant_context(drill.tenant):
            waiting = OutboxEvent.objects.filter(dispatched_at__isnull=True)
            assert sorted(event.payload["id"] for event in waiting if event.event_type == "lead.created") == created
        log = server.log.read_text(errors="replace")
        assert "Broker unavailable" in log and '"levelname": "ERROR"' not in log, log[-3000:]

        private_redis.start()
        _, reply = new_lead(drill, server.base_url)  # queued on commit again, now that Redis answers
        assert reply.status == 201, reply.body
        send_sweeps(private_redis.url)
        wait_until(lambda: set(delivered()) == set(events()), what="every event delivered", timeout=90, log=worker.log)
        # Another round of sweeps finds nothing left to send.
        send_sweeps(private_redis.url)
        time.sleep(3)
    finally:
        worker.stop()
        server.stop()
    assert set(delivered().values()) == {1}, f"an event delivered twice: {delivered()}"
    assert all(call["verified"] for call in receiver.calls)
    with tenant_context(drill.tenant):
        assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()
        assert not WebhookDelivery.objects.filter(delivered_at__isnull=True).exists()


# 4. Two firms through PgBouncer in transaction mode ----------------------------------------------------------


@pytest.fixture
def pgbouncer(workdir):
    database = settings.DATABASES["default"]
    bouncer = PrivatePgBouncer(
        workdir, user=database["USER"], password=database["PASSWORD"], upstream_port=int(database["PORT"] or 5432)
    ).start()
    yield bouncer
    bouncer.stop()


def test_through_pgbouncer_in_transaction_mode_no_row_of_one_firm_reaches_the_other(pgbouncer, private_redis, workdir):
    firms = [firm("bouncer-a", leads=12), firm("bouncer-b", leads=12)]
    database = settings.DATABASES["default"]
    env = server_environment(
        secret_key=settings.SECRET_KEY,
        database_url=url_of({**database, "PORT": pgbouncer.port}),
        owner_url=url_of(settings.DATABASES["owner"]),
        redis_url=private_redis.url,
        DATABASE_POOLER="pgbouncer",
    )
    server = Gunicorn(env, workdir).start()

    def one(n: int) -> tuple[int, str, int, set[int]]:
        """Request ``n``: firm A and B in turn, each asking for its list, one of its leads, or the other's."""
        mine, other = firms[n % 2], firms[1 - n % 2]
        kind = ("list", "detail", "foreign")[n // 2 % 3]
        if kind == "list":
            reply = request(server.base_url, "GET", "/api/v1/leads/?page_size=50", headers=mine.api)
            ids = {row["id"] for row in reply.json()["results"]} if reply.status == 200 else set()
        else:
            lead = sorted((mine if kind == "detail" else other).lead_ids)[n % 12]
            reply = request(server.base_url, "GET", f"/api/v1/leads/{lead}/", headers=mine.api)
            ids = {reply.json()["id"]} if reply.status == 200 else set()
        return n % 2, kind, reply.status, ids

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(one, range(1000)))
        server_connections = pgbouncer.server_connections(database["NAME"])
    finally:
        server.stop()
    assert len(answers) == 1000
    assert server_connections <= 2, "PgBouncer did not share its two server connections between the firms"
    expected = {"list": 200, "detail": 200, "foreign": 404}
    for who, kind, status, ids in answers:
        assert status == expected[kind], (firms[who].tenant.slug, kind, status)
        if kind == "list":
            assert ids == firms[who].lead_ids, f"{firms[who].tenant.slug} saw {ids - firms[who].lead_ids}"
        else:
            assert ids <= firms[who].lead_ids, f"{firms[who].tenant.slug} read another firm's lead {ids}"


# 5. Mixed load ------------------------------------------------------------------------------------------------


def test_two_minutes_of_mixed_load_answer_no_server_error(private_redis, workdir):
    seconds = float(os.environ.get("FAULT_DRILL_SECONDS", "120"))
    busy = firm("load", leads=30)
    env = server_environment(
        secret_key=settings.SECRET_KEY,
        database_url=url_of(settings.DATABASES["default"]),
        owner_url=url_of(settings.DATABASES["owner"]),
        redis_url=private_redis.url,
    )
    server = Gunicorn(env, workdir).start()
    lead_ids = sorted(busy.lead_ids)
    expected = {"create": 201, "list": 200, "detail": 200, "page": 200, "lead page": 200, "dashboard": 200}

    def client(n: int) -> Counter:
        answers = Counter()
        deadline = time.monotonic() + seconds
        for turn in itertools.count(n):
            if time.monotonic() >= deadline:
                return answers
            kind = list(expected)[turn % len(expected)]
            lead = lead_ids[turn % len(lead_ids)]
            if kind == "create":
                _, reply = new_lead(busy, server.base_url)
            else:
                path, headers = {
                    "list": ("/api/v1/leads/", busy.api),
                    "detail": (f"/api/v1/leads/{lead}/", busy.api),
                    "page": ("/leads/", busy.staff),
                    "lead page": (f"/leads/{lead}/", busy.staff),
                    "dashboard": ("/", busy.staff),
                }[kind]
                reply = request(server.base_url, "GET", path, headers=headers)
            answers[(kind, reply.status)] += 1

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = sum(pool.map(client, range(8)), Counter())
    finally:
        server.stop()
    log = server.log.read_text(errors="replace")
    assert sum(answers.values()) > 8 * seconds, f"too few requests served: {answers}"
    assert not [key for key in answers if key[1] >= 500], f"server errors: {answers}\n{log[-3000:]}"
    assert {key for key in answers} == {(kind, status) for kind, status in expected.items()}, answers
