from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from renocrm.twofactor import services


class Command(BaseCommand):
    help = (
        "Remove a user's authenticator app and recovery codes (a lost phone). Where two-factor sign-in is "
        "required for them they set it up again after their next password sign-in."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        count = services.two_factor_reset(user=user, by="manage.py twofactor_reset")
        if count:
            self.stdout.write(f"Two-factor sign-in reset for {username}: {count} devices removed.")
        else:
            self.stdout.write(f"{username} had no two-factor sign-in; nothing to reset.")
