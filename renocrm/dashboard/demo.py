"""The demo firm `make run` seeds into an empty database. Each lifecycle stage adds its own seeding
function to SEEDERS; they run in order inside the demo firm's context."""

from __future__ import annotations

from django.db import transaction

from renocrm.accounts.models import Membership, User
from renocrm.accounts.roles import Role
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.models import Tenant

DEMO_SLUG = "demo"
DEMO_PASSWORD = "demo-pass-2026"
DEMO_USERS = [
    ("admin", "赵总", Role.ADMIN),
    ("sales", "钱敏", Role.SALES),
    ("designer", "孙设计", Role.DESIGNER),
    ("pm", "李工长", Role.PROJECT_MANAGER),
    ("qc", "周质检", Role.QC),
    ("service", "吴客服", Role.CUSTOMER_SERVICE),
    ("finance", "郑财务", Role.FINANCE),
]

# Callables taking (tenant, users_by_username); lifecycle apps append theirs.
SEEDERS: list = []


@transaction.atomic
def demo_seed() -> Tenant | None:
    """Seed the demo firm unless the database already has a firm. Returns the new firm, or None."""
    if Tenant.objects.exists():
        return None
    tenant = Tenant.objects.create(name="示范装饰工程有限公司", slug=DEMO_SLUG, phone="400-820-8820")
    users = {}
    for username, name, role in DEMO_USERS:
        user = User.objects.create_user(
            username=username, password=DEMO_PASSWORD, name=name, email=f"{username}@demo.renocrm.local"
        )
        Membership.objects.create(user=user, tenant=tenant, role=role)
        users[username] = user
    with tenant_context(tenant):
        for seed in SEEDERS:
            seed(tenant, users)
    return tenant
