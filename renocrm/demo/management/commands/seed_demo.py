from django.core.management.base import BaseCommand

from renocrm.demo.seed import demo_seed
from renocrm.demo.users import DEMO_PASSWORD, DEMO_USERS


class Command(BaseCommand):
    help = "Seed the demo firm, one user per role, when the database has no firm yet."

    def handle(self, *args, **options):
        tenant = demo_seed()
        if tenant is None:
            self.stdout.write("The database already has a firm; nothing seeded.")
            return
        users = ", ".join(username for username, _, _ in DEMO_USERS)
        self.stdout.write(f"Seeded {tenant.name} ({tenant.slug}); users {users}; password {DEMO_PASSWORD}")
