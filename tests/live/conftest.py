"""The app served for real, for the tests that must not run inside a test transaction.

Every other API test runs in a transaction the test opens, so a request that finds none open (no credentials,
an unknown key, a user without a firm) never happens there. Here gunicorn serves the production settings
(tests/ops/servers.py) on a free port against this process's test database, with a private Redis, and the
rows the tests need are committed for two firms before it starts. Requests go over HTTP; a test that checks
what was (not) written reads the database afterwards through ``live_db``.

The server and the rows live for one test module; the rows are flushed when it ends, like a transactional
test's, so the tests that run after it see an empty database again.
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from django.db import connections

from renocrm.tenancy.context import tenant_context
from tests.ops.servers import Gunicorn, PrivateRedis, Reply, Workdir, server_environment, url_of

# The fuzzer's key: an id no generated path parameter is likely to name, so revoking "some key" by id does not
# lock the rest of the run out.
FUZZ_KEY_ID = 987_654_321


@dataclass
class LiveFirm:
    """A firm with committed rows, an API key with every scope and a signed-in admin."""

    tenant: object
    key: str
    session: str
    ids: dict[str, int] = field(default_factory=dict)

    @property
    def api(self) -> dict:
        return {"Authorization": f"Api-Key {self.key}"}


@dataclass
class Live:
    base_url: str
    port: int
    firm_a: LiveFirm
    firm_b: LiveFirm
    fuzz_key: str
    # A signed-in user who belongs to no firm.
    lone_session: str
    media_root: str

    def call(self, method: str, path: str, *, body=None, data: bytes | None = None, headers=None) -> Reply:
        """One request over plain http.client: ``body`` is sent as JSON, ``data`` as given (with the caller's
        Content-Type). An error status is a Reply like any other; redirects are not followed."""
        all_headers = dict(headers or {})
        if body is not None:
            data = json.dumps(body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=data, headers=all_headers)
            response = connection.getresponse()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            connection.close()


def signed_in(user) -> str:
    """A session key the server accepts (same SECRET_KEY, same database) for ``user``."""
    session = SessionStore()
    session.update(
        {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
    )
    session.create()
    return session.session_key


def seed_firm(slug: str, *, key_id: int | None = None) -> LiveFirm:
    """A firm with one of everything the representative writes act on."""
    from tests.callbacks.factories import CallbackFactory
    from tests.contracts.factories import QuotationItemFactory
    from tests.factories import ApiKeyFactory, MembershipFactory, TenantFactory
    from tests.leads.factories import CustomerFactory, LeadFactory
    from tests.worksites.factories import PhaseFactory

    tenant = TenantFactory(name=f"Live {slug}", slug=f"live-{slug}")
    admin = MembershipFactory(tenant=tenant, role="admin").user
    with tenant_context(tenant):
        key = ApiKeyFactory(**({"id": key_id} if key_id else {}))
        lead = LeadFactory()
        item = QuotationItemFactory(version__quotation__lead=lead)
        phase = PhaseFactory()
        worksite = phase.worksite
        callback = CallbackFactory(worksite=worksite, status="open")
        scheduled = CallbackFactory(worksite=worksite, status="scheduled")
        other_customer = CustomerFactory()
        seed_the_rest(lead=lead, worksite=worksite)
    ids = {
        "lead": lead.pk,
        "customer": worksite.project.customer_id,
        "other_customer": other_customer.pk,
        "version": item.version_id,
        "worksite": worksite.pk,
        "phase": phase.pk,
        "project": worksite.project_id,
        "callback": callback.pk,
        "scheduled_callback": scheduled.pk,
        "key": key.pk,
    }
    return LiveFirm(tenant, key.raw_key, signed_in(admin), ids)


def seed_the_rest(*, lead, worksite) -> None:
    """A row or two for the other lists and details, so the fuzzer reads real rows of every kind (blank choices,
    empty lists, nulls) and checks them against the schema."""
    from tests.aftercare.factories import CoverageFactory, RepairRequestFactory, RepairVisitFactory
    from tests.callbacks.factories import SurveyDefectFactory
    from tests.complaints.factories import ComplaintEntryFactory
    from tests.contracts.factories import (
        ChangeOrderLineFactory,
        DesignAgreementFactory,
        InstalmentFactory,
        MeasurementAppointmentFactory,
    )
    from tests.leads.factories import FollowUpFactory, PropertyFactory, ReferralRewardFactory
    from tests.outbox.factories import WebhookDeliveryFactory
    from tests.worksites.factories import (
        AcceptanceItemFactory,
        InspectionFactory,
        MaterialArrivalFactory,
        ProblemSolutionFactory,
        ProgressUpdateFactory,
        SitePatrolFactory,
        TechnicalHandoverFactory,
    )

    project, contract = worksite.project, worksite.contract
    FollowUpFactory(lead=lead)
    PropertyFactory(customer=lead.customer)
    ReferralRewardFactory()
    DesignAgreementFactory(lead=lead)
    MeasurementAppointmentFactory(lead=lead)
    InstalmentFactory(contract=contract)
    ChangeOrderLineFactory(change_order__contract=contract)
    TechnicalHandoverFactory(worksite=worksite)
    ProgressUpdateFactory(worksite=worksite)
    InspectionFactory(worksite=worksite)
    MaterialArrivalFactory(worksite=worksite)
    SitePatrolFactory(worksite=worksite)
    ProblemSolutionFactory(problem__worksite=worksite)
    AcceptanceItemFactory(handover__worksite=worksite)
    CoverageFactory(project=project)
    RepairVisitFactory(repair=RepairRequestFactory(project=project))
    ComplaintEntryFactory(complaint__project=project)
    SurveyDefectFactory(survey__callback__worksite=worksite)
    WebhookDeliveryFactory()


def flush_database() -> None:
    """What a transactional test does when it ends: every table emptied through the application role."""
    call_command("flush", verbosity=0, interactive=False, database="default", reset_sequences=False)


@pytest.fixture(scope="module")
def live(django_db_setup, django_db_blocker):
    from tests.factories import ApiKeyFactory, UserFactory

    workdir = Workdir("live")
    redis = PrivateRedis(workdir.path).start()
    server = None
    try:
        with django_db_blocker.unblock():
            firm_a = seed_firm("a")
            firm_b = seed_firm("b")
            with tenant_context(firm_a.tenant):
                fuzz_key = ApiKeyFactory(id=FUZZ_KEY_ID, name="fuzz").raw_key
            lone_session = signed_in(UserFactory())
            for connection in connections.all():
                connection.close()
        media_root = workdir.path / "media"
        env = server_environment(
            secret_key=settings.SECRET_KEY,
            database_url=url_of(settings.DATABASES["default"]),
            owner_url=url_of(settings.DATABASES["owner"]),
            redis_url=redis.url,
            MEDIA_ROOT=str(media_root),
            ALLOWED_HOSTS="127.0.0.1,localhost",
        )
        server = Gunicorn(env, workdir.path, name="live-gunicorn").start()
        yield Live(server.base_url, server.port, firm_a, firm_b, fuzz_key, lone_session, str(media_root))
    finally:
        if server is not None:
            server.stop()
        redis.stop()
        with django_db_blocker.unblock():
            flush_database()
        workdir.remove()


@pytest.fixture
def live_db(live, django_db_blocker):
    """Database access in a live test, to check what the server wrote (committed rows only, no transaction)."""
    with django_db_blocker.unblock():
        yield
        for connection in connections.all():
            connection.close()
