"""Re-encrypt every encrypted field under the newest key (after prepending one to
FIELD_ENCRYPTION_KEYS), and encrypt legacy plaintext left from before encryption was switched on."""
from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from portal import crypto


def encrypted_fields(only: list[str] | None = None):
    for model in apps.get_models():
        label = model._meta.label_lower
        if only and label not in only:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, crypto.EncryptedTextField):
                yield model, field


class Command(BaseCommand):
    help = "Re-encrypt encrypted fields with the newest FIELD_ENCRYPTION_KEYS key (key rotation)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count rows to change, change nothing")
        parser.add_argument("--model", action="append", help="app_label.model_name; repeatable (default: all)")
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument(
            "--rehash", action="store_true", help="also recompute companion lookup hashes (after changing FIELD_HASH_KEY)"
        )

    def handle(self, *args, dry_run: bool, model: list[str] | None, batch_size: int, rehash: bool, **options):
        only = [label.lower() for label in model] if model else None
        total = 0
        for model_cls, field in encrypted_fields(only):
            changed = self._rotate(model_cls, field, dry_run=dry_run, batch_size=batch_size)
            total += changed
            if rehash and field.hash_field:
                hashed = self._rehash(model_cls, field, dry_run=dry_run)
                self.stdout.write(f"{model_cls._meta.label}.{field.hash_field}: {hashed} hash(es) {'to recompute' if dry_run else 'recomputed'}")
            self.stdout.write(f"{model_cls._meta.label}.{field.name}: {changed} row(s) {'to re-encrypt' if dry_run else 're-encrypted'}")
        if only and total == 0 and not any(True for _ in encrypted_fields(only)):
            raise CommandError(f"no encrypted fields on {', '.join(only)}")
        self.stdout.write(self.style.SUCCESS(f"{total} value(s) {'would be' if dry_run else ''} re-encrypted".replace("  ", " ")))

    def _rotate(self, model_cls, field, *, dry_run: bool, batch_size: int) -> int:
        table = connection.ops.quote_name(model_cls._meta.db_table)
        pk = connection.ops.quote_name(model_cls._meta.pk.column)
        column = connection.ops.quote_name(field.column)
        changed = 0
        last_pk = None
        while True:
            # Raw SQL: the ORM would decrypt on read, and we need the stored ciphertext to
            # tell which key made it. Keyset pagination keeps each batch short.
            with connection.cursor() as cursor:
                where = f"WHERE {column} IS NOT NULL AND {column} <> ''"
                params: list = []
                if last_pk is not None:
                    where += f" AND {pk} > %s"
                    params.append(last_pk)
                cursor.execute(f"SELECT {pk}, {column} FROM {table} {where} ORDER BY {pk} LIMIT %s", [*params, batch_size])
                rows = cursor.fetchall()
            if not rows:
                return changed
            last_pk = rows[-1][0]
            stale = [(row_pk, value) for row_pk, value in rows if crypto.needs_reencryption(value)]
            changed += len(stale)
            if dry_run or not stale:
                continue
            with transaction.atomic(), connection.cursor() as cursor:
                for row_pk, value in stale:
                    # Compare-and-set on the stored value: a row edited since the read keeps
                    # its new value (raw SQL again, the ORM would re-encrypt the comparison).
                    cursor.execute(
                        f"UPDATE {table} SET {column} = %s WHERE {pk} = %s AND {column} = %s",
                        [crypto.reencrypt(value), row_pk, value],
                    )

    def _rehash(self, model_cls, field, *, dry_run: bool) -> int:
        from django.utils.module_loading import import_string

        normalize = import_string(field.hash_normalizer) if field.hash_normalizer else None
        changed = 0
        for row_pk, value, current in model_cls._base_manager.values_list("pk", field.attname, field.hash_field).iterator():
            wanted = crypto.lookup_hash(value, normalize=normalize) if value else None
            if wanted != current:
                changed += 1
                if not dry_run:
                    model_cls._base_manager.filter(pk=row_pk).update(**{field.hash_field: wanted})
        return changed
