from django.core.management.base import BaseCommand, CommandError

from renocrm.accounts.roles import SCOPES
from renocrm.api.services import api_key_create
from renocrm.tenancy.context import tenant_context
from renocrm.tenancy.models import Tenant


class Command(BaseCommand):
    help = "Create an API key for a firm. The key is printed once, as the last line; only its digest is stored."

    def add_arguments(self, parser):
        parser.add_argument("firm", help="The firm's slug.")
        parser.add_argument("--name", required=True)
        parser.add_argument("--scope", action="append", default=[], help="e.g. leads:read; repeat or comma-separate")

    def handle(self, *args, firm, name, scope, **options):
        scopes = sorted({item.strip() for value in scope for item in value.split(",") if item.strip()})
        unknown = [item for item in scopes if item not in SCOPES]
        if not scopes or unknown:
            raise CommandError(
                f"Give one or more scopes out of: {', '.join(SCOPES)}"
                + (f" (unknown: {', '.join(unknown)})" if unknown else "")
            )
        tenant = Tenant.objects.filter(slug=firm).first()
        if tenant is None:
            raise CommandError(f"No firm with the slug {firm!r}.")
        with tenant_context(tenant):
            api_key, raw_key = api_key_create(name=name, scopes=scopes)
        self.stdout.write(f"Created API key {api_key.prefix} for {tenant.name} with scopes {', '.join(scopes)}:")
        self.stdout.write(raw_key)
