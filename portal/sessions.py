"""Sessions in the database, each row with its account's key (``SESSION_ENGINE = "portal.sessions"``).

Every signed-in request reads its session and then its account. On PostgreSQL both come from one
statement, prepared once per connection (``portal.prepared``): the session row joined to the
account by the key kept beside it (``portal.models.Session.user``), with what
``portal.auth_backends`` reads with every account (the header's unread badge, the own person).
The backend takes the account from there (``portal.middleware`` hands it over) instead of asking
again. The sessions used to be read through Redis: that was a round trip of its own, a way for an
ended session to outlive a Redis outage by minutes, and a path that had to survive Redis being
down; now Redis is not on a signed-in request's path at all.

Elsewhere (SQLite, the embedded default) the session is read as Django's database backend reads
it, and the account by its own query. Writing, expiry and ``clearsessions`` are Django's; the
expired rows are deleted every night (``portal.tasks.session_clear_expired``).
"""
from __future__ import annotations

import functools
import threading
from collections import OrderedDict

from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.backends import db
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from portal import prepared


@functools.cache
def _session_statement() -> prepared.Prepared:
    from portal.auth_backends import account_select_sql
    from portal.models import Session

    quote = connection.ops.quote_name
    meta, user = Session._meta, get_user_model()._meta
    return prepared.Prepared(
        "portal_session_read",
        f"SELECT s.{quote(meta.get_field('session_data').column)}, {account_select_sql(alias='u')}"
        f" FROM {quote(meta.db_table)} s LEFT JOIN {quote(user.db_table)} u"
        f" ON u.{quote(user.pk.column)} = s.{quote(meta.get_field('user').column)}"
        f" WHERE s.{quote(meta.pk.column)} = %(key)s AND s.{quote(meta.get_field('expire_date').column)} > %(now)s",
        {"key": "varchar", "now": "timestamptz"},
    )


class _Decoded:
    """Sessions' data as decoded, by the signed text it was decoded from: an LRU of this process.

    Decoding checks the signature (an HMAC) and parses JSON, about 15 µs of every signed-in
    request, for a text that stays the same from one request to the next until the session is
    written. Decoding is a function of the text and the secret keys (both in the entry's key), so
    a text seen before decodes to the same values: nothing is trusted that the row just read does
    not say, and the row is read on every request as before. Only data of plain values is kept (a
    caller may change a list or a dict it gets in place), and each caller gets its own dict."""

    SIZE = 4096
    _PLAIN = (str, int, float, bool, type(None))

    def __init__(self) -> None:
        self._entries: OrderedDict[tuple, dict] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str, decode) -> dict:
        key = (settings.SECRET_KEY, tuple(settings.SECRET_KEY_FALLBACKS), text)
        with self._lock:
            data = self._entries.get(key)
            if data is not None:
                self._entries.move_to_end(key)
                return dict(data)
        data = decode(text)
        if data and all(isinstance(value, self._PLAIN) for value in data.values()):
            with self._lock:
                self._entries[key] = dict(data)
                while len(self._entries) > self.SIZE:
                    self._entries.popitem(last=False)
        return data

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


decoded = _Decoded()


class SessionStore(db.SessionStore):
    # The account row read with the session (``portal.auth_backends.account_select_sql``'s
    # columns), None when the session has no account or was not read that way.
    account_row: tuple | None = None

    @classmethod
    def get_model_class(cls):
        from portal.models import Session

        return Session

    def load(self):
        if connection.vendor != "postgresql" or self.session_key is None:
            return super().load()
        key = self.session_key
        rows = prepared.fetch(_session_statement(), {"key": key, "now": timezone.now()})
        if rows:
            session_data, *account = rows[0]
            self.account_row = tuple(account) if account[0] is not None else None
            return decoded.get(session_data, self.decode)
        moved = self._moved_from_djangos_table(key)
        if moved is None:
            # As Django's: an unknown or expired key is dropped, a new one is made on save.
            self._session_key = None
            return {}
        return self.decode(moved.session_data)

    def _get_session_from_db(self):
        # Django's read (SQLite), with the same fallback as ``load``.
        key = self.session_key
        session = super()._get_session_from_db()
        if session is None and key is not None:
            session = self._moved_from_djangos_table(key)
            if session is not None:
                self._session_key = key
        return session

    def _moved_from_djangos_table(self, key: str):
        """A session the release before ``portal/migrations/0004_session`` wrote to Django's own
        table while the upgrade rolled (the migration copied the others): moved here at its first
        visit, so the upgrade signs nobody out. Once ``SESSION_COOKIE_AGE`` has passed since that
        upgrade, Django's table is empty (``portal.services.session_clear_expired``) and this can go."""
        from django.contrib.sessions.models import Session as DjangoSession

        old = DjangoSession.objects.filter(session_key=key, expire_date__gt=timezone.now()).first()
        if old is None:
            return None
        model = self.get_model_class()
        moved = model(session_key=key, session_data=old.session_data, expire_date=old.expire_date,
                      user_id=_account_key(self.decode(old.session_data).get(SESSION_KEY)))
        with transaction.atomic():
            model.objects.bulk_create([moved], ignore_conflicts=True)  # two requests may move it at once
            old.delete()
        return moved

    def create_model_instance(self, data):
        session = super().create_model_instance(data)
        session.user_id = _account_key(data.get(SESSION_KEY))
        return session


def _account_key(value) -> int | None:
    from portal.models import User

    if value is None:
        return None
    try:
        return User._meta.pk.to_python(value)
    except ValidationError:
        return None
