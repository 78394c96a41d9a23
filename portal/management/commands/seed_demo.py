"""Demo accounts for the embedded default (`make run`). Refuses to run anywhere else."""
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

DEMO_ADMIN = ("admin", "admin-demo-2026")


class Command(BaseCommand):
    help = "Create demo accounts (embedded default only) and print their credentials."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="allow outside the embedded default (tests)")

    def handle(self, *args, force: bool = False, **options):
        if not (settings.EMBEDDED or force):
            raise CommandError("seed_demo only runs in the embedded default (no DATABASE_URL).")
        User = get_user_model()
        username, password = DEMO_ADMIN
        user, created = User.objects.get_or_create(username=username, defaults={"is_staff": True, "is_superuser": True})
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        self.stdout.write(self.style.SUCCESS("Demo accounts (embedded default only):"))
        self.stdout.write(f"  admin       /admin/      {username} / {password}")
