"""``migrate`` runs as the owner: the application's own role cannot change the schema."""

from django.core.management.commands.migrate import Command as DjangoMigrate

from renocrm.tenancy.db import ensure_app_role


class Command(DjangoMigrate):
    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(database="owner")

    def handle(self, *args, **options):
        ensure_app_role(using=options["database"])
        return super().handle(*args, **options)
