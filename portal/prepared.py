"""Statements run on every SMS or every citizen page, prepared once per database connection.

Used by the outbox (``notifications.sending``), by the citizen reads in
``applications.citizen_sql`` (the people an account acts for, 我的申请, a case's page) and by the
user read of every signed-in request (``portal.auth_backends``).

PostgreSQL parses, analyses and plans a statement sent as text every time. For the claim (two
statements with sub-selects, ``sending._claim_sql``) that was three quarters of its round trip:
0.57 ms against 0.14 ms as ``EXECUTE`` of a prepared statement, for a row that is not due, on the
bench server. Each connection prepares a statement the first time it needs it (one extra round
trip per connection), then runs it by name with its values, still in one round trip.

A connection that lost its prepared statements (``DISCARD ALL`` by a session-pooling PgBouncer,
say) answers "prepared statement does not exist": they are prepared again and the statement is
retried once. If they are gone again at once, the connection does not keep them between
statements (PgBouncer in transaction pooling hands each statement to another server): it runs
the statements as text from then on. ``DB_PREPARED_STATEMENTS=0`` says so from the start.
"""
from __future__ import annotations

import functools
import logging
import re
import weakref
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections
from django.db.models import Model, signals
from django.db.models.base import ModelState

logger = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_UNDEFINED_PREPARED_STATEMENT = "26000"
# The raw connections (psycopg2) and the names prepared on each; gone with the connection.
_prepared_on: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# Connections whose prepared statements vanished between two statements: text only.
_as_text: weakref.WeakSet = weakref.WeakSet()


@dataclass(frozen=True)
class Prepared:
    """One statement with ``%(name)s`` placeholders and the SQL type of each parameter."""

    name: str
    sql: str
    types: dict[str, str]
    order: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        order: list[str] = []
        for match in _PLACEHOLDER.finditer(self.sql):
            if match.group(1) not in order:
                order.append(match.group(1))
        object.__setattr__(self, "order", tuple(order))

    def prepare_sql(self) -> str:
        body = _PLACEHOLDER.sub(lambda m: f"${self.order.index(m.group(1)) + 1}", self.sql)
        return f"PREPARE {self.name} ({', '.join(self.types[name] for name in self.order)}) AS {body}"

    def execute_sql(self) -> str:
        return f"EXECUTE {self.name}({', '.join(f'%({name})s' for name in self.order)})"


def execute(cursor, parts: tuple[Prepared | str, ...], params: dict, *, db=None) -> None:
    """Run ``parts`` in one round trip on ``cursor`` (a cursor of ``db``, by default
    ``connection``): prepared ones by name, plain strings (e.g. ``SET LOCAL``, which cannot be
    prepared) as they are."""
    raw = (db or connection).connection
    if not getattr(settings, "DB_PREPARED_STATEMENTS", True) or raw in _as_text:
        cursor.execute(_as_plain_text(parts), params)
        return
    statements = [part for part in parts if isinstance(part, Prepared)]
    done = _prepared_on.setdefault(raw, set())
    missing = [s for s in statements if s.name not in done]
    if missing:
        _prepare(cursor, missing, done)
    text = "; ".join(part.execute_sql() if isinstance(part, Prepared) else part for part in parts)
    for attempt in ("first", "again"):
        try:
            cursor.execute(text, params)
            return
        except DatabaseError as exc:
            # Nothing of the statement ran: its implicit transaction ended at the error.
            if getattr(exc.__cause__, "pgcode", None) != _UNDEFINED_PREPARED_STATEMENT:
                raise
        done.clear()
        if attempt == "first":
            _prepare(cursor, statements, done)
    logger.warning("prepared statements do not last on this database connection (a transaction pooler?); "
                   "running them as text (DB_PREPARED_STATEMENTS=0 says so from the start)")
    _as_text.add(raw)
    cursor.execute(_as_plain_text(parts), params)


def _as_plain_text(parts: tuple[Prepared | str, ...]) -> str:
    return "; ".join(part.sql if isinstance(part, Prepared) else part for part in parts)


def _prepare(cursor, statements: list[Prepared], done: set[str]) -> None:
    # DEALLOCATE first: a name prepared earlier on this connection (before a lost mark) would
    # make PREPARE fail. An empty parameter dict makes the driver turn "%%" into "%" as in EXECUTE.
    cursor.execute("SELECT name FROM pg_prepared_statements WHERE name = ANY(%s)", [[s.name for s in statements]])
    existing = {name for (name,) in cursor.fetchall()}
    text = "; ".join(
        [f"DEALLOCATE PREPARE {s.name}" for s in statements if s.name in existing] + [s.prepare_sql() for s in statements]
    )
    cursor.execute(text, {})
    done.update(s.name for s in statements)


def fetch(statement: Prepared, params: dict) -> list[tuple]:
    """Run one read on the default connection and return its rows.

    Inside a transaction the SQL goes as text: a statement a pooler dropped would fail the
    caller's whole transaction, which the retry in ``execute`` cannot undo. So it does with
    ``CONN_MAX_AGE=0`` (``None`` keeps connections for ever): a connection closed after each
    request would prepare on every visit. Text still saves the ORM's building of the query; only
    PostgreSQL's planning is not saved.
    """
    db = connections[DEFAULT_DB_ALIAS]  # ``connection`` looks this up again at every use
    with db.cursor() as cursor:
        if db.in_atomic_block or db.settings_dict.get("CONN_MAX_AGE") == 0:
            cursor.execute(statement.sql, params)
        else:
            execute(cursor, (statement,), params, db=db)
        return cursor.fetchall()


# Rows to model instances, as the ORM's compiler makes them: the same fields, converters and
# ``Model.from_db``, so an instance read here behaves like one from a queryset (deferred fields
# included: reading one costs a query, as with ``.defer()``).


def loaded_fields(model, deferred: frozenset[str] = frozenset()) -> list:
    return [f for f in model._meta.concrete_fields if f.name not in deferred]


def select_columns(model, alias: str, deferred: frozenset[str] = frozenset()) -> list[str]:
    """The loaded fields' columns, qualified by ``alias``, in the order ``instance`` reads them."""
    return [f"{alias}.{connection.ops.quote_name(f.column)}" for f in loaded_fields(model, deferred)]


@functools.cache
def _converters(model, deferred: frozenset[str]) -> tuple[tuple[str, ...], list[tuple]]:
    """The loaded fields' attnames, and for those that have any, their position, column and
    converters from the database value, as the ORM's compiler applies them (JSON decoding, for
    one) before ``Model.from_db``."""
    names, converting = [], []
    for position, f in enumerate(loaded_fields(model, deferred)):
        column = f.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(column) + f.get_db_converters(connection)
        names.append(f.attname)
        if converters:
            converting.append((position, column, converters))
    return tuple(names), converting


def instance(model, deferred: frozenset[str], values) -> object:
    """``model`` from ``values``, the columns of ``select_columns(model, ..., deferred)``.

    What ``Model.from_db`` makes, built the way ``catalog.selectors._private_copy`` copies a
    catalog row: the loaded values straight into the instance's ``__dict__``. ``Model.__init__``
    sets each field through ``setattr`` (28 fields for a case): for a page of 20 cases with their
    patients that was 0.8 ms of the 200-case dashboard, 0.35 ms so. Where ``__init__`` could do
    more than set values (a custom ``__init__``, ``pre_init``/``post_init`` receivers, private
    fields such as a generic foreign key), ``from_db`` is used. ``tests/portal/test_prepared``
    holds the two to the same instance.
    """
    names, converting = _converters(model, deferred)
    values = list(values)
    for position, column, converters in converting:
        value = values[position]
        for converter in converters:
            value = converter(value, column, connection)
        values[position] = value
    if not _plain_init(model):
        return model.from_db(connection.alias, names, values)
    obj = model.__new__(model)
    state = ModelState()
    state.db, state.adding = connection.alias, False
    obj.__dict__ = {"_state": state, **dict(zip(names, values))}
    return obj


def _plain_init(model) -> bool:
    return (
        model.__init__ is Model.__init__
        and not model._meta.private_fields
        and not signals.pre_init.has_listeners(model)
        and not signals.post_init.has_listeners(model)
    )
