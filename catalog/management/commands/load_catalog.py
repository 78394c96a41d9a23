"""``manage.py load_catalog``: load the shipped regional catalogs (see ``catalog.loader``)."""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalog.loader import CatalogDataError, catalog_load


class Command(BaseCommand):
    help = "Load catalog/data/*.json (regions, schemes, diseases, policies, institutions); safe to re-run."

    def add_arguments(self, parser):
        parser.add_argument("--data-dir", type=Path, default=None, help="Directory with the JSON files.")

    def handle(self, *args, data_dir=None, **options):
        try:
            report = catalog_load(data_dir=data_dir)
        except CatalogDataError as exc:
            raise CommandError(f"Catalog not loaded (nothing written): {exc}") from exc
        for key, counts in report.counts.items():
            line = (
                f"{key} {report.labels.get(key, '')}: created {counts.created}, updated {counts.updated}, "
                f"unchanged {counts.unchanged}, deleted {counts.deleted}"
            )
            if counts.kept_verified:
                line += f", kept {counts.kept_verified} verified rows"
            self.stdout.write(line)
        if report.changed:
            self.stdout.write(self.style.SUCCESS("Catalog loaded."))
        else:
            self.stdout.write("Nothing changed: the database already matches the catalog files.")
