from django.core.management.base import BaseCommand, CommandError

from applications.retention import application_purge_expired


class Command(BaseCommand):
    help = "Purge files and personal data of withdrawn/rejected cases older than RETENTION_DAYS."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="report what would be purged, change nothing")
        parser.add_argument("--days", type=int, default=None, help="override RETENTION_DAYS")

    def handle(self, *args, dry_run: bool = False, days: int | None = None, **options):
        try:
            report = application_purge_expired(dry_run=dry_run, days=days)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        verb = "would purge" if dry_run else "purged"
        self.stdout.write(
            f"{verb} {len(report.cases)} cases closed before {report.cutoff:%Y-%m-%d}: "
            f"{report.files} files, {report.people} people"
        )
        for number in report.cases:
            self.stdout.write(f"  {number}")
