"""Bulk loading with PostgreSQL ``COPY``: rows go in as tab-separated text, in chunks.

Other engineers add columns to these models while the generator exists, so columns are read from
the model at run time. A column the generator does not fill gets the field's Python default once
(converted for the database) or NULL; a required column with neither stops the run with its name,
because guessing a value would make the data silently wrong.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models

CHUNK_ROWS = 100_000
NULL = "\\N"


_SPECIAL = re.compile(r"[\\\t\n\r]")


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def copy_text(value: Any) -> str:
    """One value in COPY's text format (NULL is ``\\N``; backslash, tab and newline escaped).

    Dispatches on the exact type first: this runs for every value of millions of rows.
    """
    kind = type(value)
    if kind is str:
        return _escape(value) if _SPECIAL.search(value) else value
    if value is None:
        return NULL
    if kind is int or kind is float:
        return str(value)
    if kind is bool:
        return "t" if value else "f"
    if kind is dt.datetime or kind is dt.date:
        return value.isoformat()
    if kind is dict or kind is list:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        return _escape(text) if _SPECIAL.search(text) else text
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return _escape(text) if _SPECIAL.search(text) else text


class MissingColumn(RuntimeError):
    pass


def _default_columns(model: type[models.Model], given: Sequence[str]) -> tuple[list[str], str, list]:
    """The columns the caller does not fill: their constant text suffix for every row, and the
    unique ones with a callable default (a UUID reference) that need a fresh value per row."""
    columns, values, per_row = [], [], []
    for field in model._meta.concrete_fields:
        if field.column in given or field.attname in given:
            continue
        if field.primary_key:
            continue
        if field.has_default() and field.unique and callable(field.default):
            per_row.append(field)
            continue
        if field.has_default():
            value = field.get_default()
            if not isinstance(field, models.JSONField):
                value = field.get_db_prep_save(value, connection)
        elif isinstance(field, (models.CharField, models.TextField)) and field.blank and not field.null:
            value = ""
        elif field.null:
            value = None
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            raise MissingColumn(f"{model._meta.label}.{field.name}: timestamps are filled by the generator")
        else:
            raise MissingColumn(
                f"{model._meta.label}.{field.name} is required and has no default: teach bench/generate.py about it"
            )
        columns.append(field.column)
        values.append(copy_text(value))
    return columns + [f.column for f in per_row], "".join("\t" + v for v in values), per_row


def copy_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any] | str]) -> int:
    """COPY ``rows`` into the model's table: tuples in ``columns`` order (names or attnames), or
    lines already in COPY text format (tab-separated, no newline) for the hottest tables, where
    formatting each value through ``copy_text`` would cost more than the database's work."""
    fields = [model._meta.get_field(c) for c in columns]  # names or attnames ("applicant_id")
    columns = [f.column for f in fields]
    # A project field type (an encrypted column) stores something other than the Python value:
    # its values go through the field's own conversion. Django's types are written as they are.
    custom = [i for i, f in enumerate(fields) if not type(f).__module__.startswith("django.")]
    if custom:
        rows = _converted(rows, [(i, fields[i]) for i in custom])
    extra_columns, suffix, per_row = _default_columns(model, columns)
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in [*columns, *extra_columns])
    sql = f"COPY {table} ({names}) FROM STDIN"
    total = 0
    buffer = io.StringIO()
    pending = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg2 cursor: Django's wrapper has no copy_expert
        for row in rows:
            buffer.write(row if type(row) is str else "\t".join([copy_text(v) for v in row]))
            buffer.write(suffix)
            for field in per_row:
                buffer.write("\t" + copy_text(field.get_db_prep_save(field.get_default(), connection)))
            buffer.write("\n")
            pending += 1
            if pending >= CHUNK_ROWS:
                buffer.seek(0)
                raw.copy_expert(sql, buffer)
                total += pending
                buffer = io.StringIO()
                pending = 0
        if pending:
            buffer.seek(0)
            raw.copy_expert(sql, buffer)
            total += pending
    return total


def stored_text(model: type[models.Model], name: str):
    """A function from a Python value to its COPY text for one column: project field types (an
    encrypted column) go through the field's own conversion, Django's are written as they are.
    For generators that pre-format their lines."""
    field = model._meta.get_field(name)
    if type(field).__module__.startswith("django."):
        return copy_text
    return lambda value: copy_text(field.get_db_prep_save(value, connection))


def companion_hash(model: type[models.Model], name: str):
    """For an encrypted column with a lookup-hash companion (``hash_field``): the companion's
    name and a function computing it, as the field's ``pre_save`` does; else (None, None)."""
    field = model._meta.get_field(name)
    hash_field = getattr(field, "hash_field", None)
    if not hash_field:
        return None, None
    from django.utils.module_loading import import_string

    from portal.crypto import lookup_hash

    normalize = import_string(field.hash_normalizer) if getattr(field, "hash_normalizer", None) else None
    return hash_field, lambda value: lookup_hash(value, normalize=normalize)


def _converted(rows, conversions):
    for row in rows:
        if type(row) is str:
            yield row  # pre-formatted lines were converted by their maker (see stored_text)
            continue
        row = list(row)
        for i, field in conversions:
            row[i] = field.get_db_prep_save(row[i], connection)
        yield row


def reset_sequence(model: type[models.Model]) -> None:
    """After COPY with explicit ids, the identity sequence must continue after the largest one."""
    table = model._meta.db_table
    pk = model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, %s), COALESCE((SELECT MAX({connection.ops.quote_name(pk)}) "
            f"FROM {connection.ops.quote_name(table)}), 0) + 1, false)",
            [table, pk],
        )


@contextlib.contextmanager
def indexes_deferred(*tables: str):
    """Drop the tables' plain indexes (not those backing a primary key or unique constraint) and
    rebuild them afterwards: building an index once over sorted data is several times faster
    than updating it row by row during COPY. Runs inside the caller's transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            JOIN pg_class c ON c.relname = i.indexname
            WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid)
            """,
            [list(tables)],
        )
        definitions = cursor.fetchall()
        for name, _ in definitions:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for _, definition in definitions:
            cursor.execute(definition)
