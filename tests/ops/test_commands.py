import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from renocrm.accounts.models import Membership, User
from renocrm.api.models import ApiKey
from renocrm.demo.users import DEMO_PASSWORD, DEMO_USERS
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.models import Tenant

ROOT = Path(__file__).resolve().parents[2]


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_tenant_with_its_first_admin(db):
    run(
        "create_tenant",
        "安居装饰",
        "anju",
        "--phone",
        "400-1",
        "--admin-username",
        "boss",
        "--admin-password",
        "s3cret-pass-9",
    )
    tenant = Tenant.objects.get(slug="anju")
    assert (tenant.name, tenant.time_zone, tenant.phone) == ("安居装饰", "Asia/Shanghai", "400-1")
    membership = Membership.objects.get(tenant=tenant)
    assert membership.role == "admin" and membership.user.check_password("s3cret-pass-9")


def test_create_tenant_refuses_a_bad_time_zone(db):
    with pytest.raises(CommandError, match="time_zone"):
        run("create_tenant", "X", "x", "--time-zone", "Mars/Olympus")
    assert not Tenant.objects.exists()


def test_create_api_key_prints_a_working_key_last_and_stores_only_its_digest(client, firm_a):
    output = run("create_api_key", firm_a.slug, "--name", "ERP", "--scope", "audit:read,leads:read")
    raw_key = output.strip().splitlines()[-1]
    with tenant_context(firm_a):
        stored = ApiKey.objects.get(name="ERP")
    assert stored.scopes == ["audit:read", "leads:read"]
    assert raw_key not in (stored.hashed_key, stored.prefix)
    assert client.get("/api/v1/audit-events/", HTTP_AUTHORIZATION=f"Api-Key {raw_key}").status_code == 200
    assert client.get("/api/v1/api-keys/", HTTP_AUTHORIZATION=f"Api-Key {raw_key}").status_code == 403


def test_create_api_key_refuses_unknown_scopes_and_firms(firm_a):
    with pytest.raises(CommandError, match="unknown: everything"):
        run("create_api_key", firm_a.slug, "--name", "x", "--scope", "everything")
    with pytest.raises(CommandError, match="No firm"):
        run("create_api_key", "nope", "--name", "x", "--scope", "leads:read")


def test_seed_demo_seeds_once(client, db):
    run("seed_demo")
    assert "nothing seeded" in run("seed_demo")
    tenant = Tenant.objects.get()
    assert sorted(m.role for m in Membership.objects.filter(tenant=tenant)) == sorted(role for _, _, role in DEMO_USERS)
    assert User.objects.count() == len(DEMO_USERS)
    with tenant_context(tenant):
        from contracts.models import Contract
        from leads.models import Lead, ReferralReward

        assert set(Lead.objects.values_list("status", flat=True)) == {s.value for s in Lead.Status}
        from worksites.models import Worksite

        assert Contract.objects.count() == 2 and ReferralReward.objects.count() == 1
        worksite = Worksite.objects.get(status="in_progress")
        assert worksite.project_manager.username == "pm"
        photo = worksite.progress_updates.get().media.get()
        assert photo.kind == "image" and photo.file.name.startswith(f"firms/{tenant.pk}/")
        assert worksite.problems.get().solutions.count() == 2
        assert worksite.portal_links.get().is_usable

        # Aftercare of the project handed over months ago.
        from aftercare.models import Coverage, RepairRequest
        from callbacks.models import Callback
        from complaints.models import Complaint

        finished = Worksite.objects.get(status="handed_over")
        assert finished.customer_service.username == "service"
        assert sorted(Coverage.objects.values_list("area", flat=True)) == ["bathroom", "kitchen", "whole_home"]
        statuses = list(Callback.objects.order_by("due_on").values_list("status", flat=True))
        assert statuses[:2] == ["completed", "retry"] and statuses[-1] == "scheduled"
        survey = Callback.objects.get(status="completed").surveys.get()
        assert survey.lead is not None and survey.defects.count() == 1
        assert RepairRequest.objects.get().is_covered
        assert Complaint.objects.get().level == 1
    signed_in = client.post("/accounts/login/", {"username": "admin", "password": DEMO_PASSWORD}, follow=True)
    assert signed_in.status_code == 200
    assert signed_in.context["request"].membership.role == "admin"


def manage(*args, env_overrides):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE", "REDIS", "DEBUG"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "renocrm.settings.production",
            "SECRET_KEY": "x" * 50,
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "DATABASE_URL": "postgres://a@127.0.0.1/b",
            "DATABASE_OWNER_URL": "postgres://a@127.0.0.1/b",
            "SITE_URL": "https://crm.example.com",
            **env_overrides,
        }
    )
    env = {key: value for key, value in env.items() if value is not None}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"DATABASE_URL": None}, "DATABASE_URL"),
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"REDIS_URL": "http://nope"}, "REDIS_URL"),
        ({"SECRET_KEY": None}, "SECRET_KEY"),
        ({"SITE_URL": None}, "SITE_URL"),
    ],
)
def test_a_bad_setting_stops_the_start_with_one_clear_line(overrides, named):
    result = manage("check", env_overrides=overrides)
    assert result.returncode == 2
    assert named in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
