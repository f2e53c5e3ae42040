from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from renocrm.accounts.models import Membership, User
from renocrm.accounts.roles import Role
from renocrm.tenancy.models import Tenant


class Command(BaseCommand):
    help = "Create a firm, optionally with its first admin user."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("slug")
        parser.add_argument("--time-zone", default="Asia/Shanghai")
        parser.add_argument("--language", default="zh-hans", choices=["zh-hans", "en"])
        parser.add_argument("--phone", default="")
        parser.add_argument("--admin-username")
        parser.add_argument("--admin-email", default="")
        parser.add_argument("--admin-password", help="Default: a password-reset e-mail is needed to sign in.")

    @transaction.atomic
    def handle(
        self, *args, name, slug, time_zone, language, phone, admin_username, admin_email, admin_password, **options
    ):
        tenant = Tenant(name=name, slug=slug, time_zone=time_zone, language=language, phone=phone)
        try:
            tenant.full_clean()
        except ValidationError as error:
            messages = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items())
            raise CommandError(messages) from None
        tenant.save()
        if admin_username:
            user, _ = User.objects.get_or_create(username=admin_username, defaults={"email": admin_email})
            if admin_password:
                user.set_password(admin_password)
            elif not user.has_usable_password():
                user.set_unusable_password()
            user.save()
            Membership.objects.create(user=user, tenant=tenant, roles=[Role.ADMIN])
        self.stdout.write(f"Created firm {tenant.name} ({tenant.slug}), id {tenant.pk}")
