"""Run the outbox sweep once (the embedded default has no Celery beat; tasks run inline there)."""
from django.core.management.base import BaseCommand

from notifications.sending import outbox_sweep


class Command(BaseCommand):
    help = "Recover notifications stuck in sending and queue those whose time has come."

    def handle(self, *args, **options):
        result = outbox_sweep()
        self.stdout.write(f"stuck={result['stuck']} due={result['due']} queued={result['queued']}")
