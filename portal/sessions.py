"""Sessions: kept in the database, read through the cache (``SESSION_ENGINE = "portal.sessions"``).

Every signed-in request reads its session. From Redis that is one GET; from PostgreSQL it was a
query, about a fifth of an empty signed-in page's time. The database stays the record: a session
is written there first, and any page works from the database alone when the cache does not answer.

Two things Django's ``cached_db`` leaves open, closed here:

* It raises when the cache is unreachable while it re-fills the cache after a miss, or while it
  deletes a session at logout: a Redis outage would turn every signed-in page into a 500. Here a
  failing cache is logged and skipped.
* A logout (or a session ended by the staff idle timeout) that could not reach the cache leaves
  the old entry there; when the cache came back, the ended session would work again. So an entry
  lives at most ``SESSION_CACHE_SECONDS`` (five minutes), not the session's eight hours: that
  bounds how long an ended session can outlive an outage. (The user row is still read on every
  request, so a changed password or a deactivated account ends sessions at once.)
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.db import SessionStore as DBStore

logger = logging.getLogger(__name__)


def _cache_seconds(store: cached_db.SessionStore, expiry=None) -> int:
    age = store.get_expiry_age(expiry=expiry) if expiry is not None else store.get_expiry_age()
    return max(0, min(age, int(getattr(settings, "SESSION_CACHE_SECONDS", 300))))


class SessionStore(cached_db.SessionStore):
    def load(self):
        try:
            data = self._cache.get(self.cache_key)
        except Exception:  # noqa: BLE001 - an unreachable cache: the database answers
            logger.warning("session cache unavailable; reading the session from the database")
            data = None
        if data is not None:
            return data
        stored = self._get_session_from_db()
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        self._cache_set(data, _cache_seconds(self, expiry=stored.expire_date))
        return data

    def exists(self, session_key):
        try:
            if session_key and (self.cache_key_prefix + session_key) in self._cache:
                return True
        except Exception:  # noqa: BLE001
            logger.warning("session cache unavailable; asking the database whether a key exists")
        return DBStore.exists(self, session_key)

    def save(self, must_create=False):
        DBStore.save(self, must_create)
        self._cache_set(self._session, _cache_seconds(self))

    def delete(self, session_key=None):
        DBStore.delete(self, session_key)
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        try:
            self._cache.delete(self.cache_key_prefix + session_key)
        except Exception:  # noqa: BLE001 - the entry expires within SESSION_CACHE_SECONDS
            logger.warning("session cache unavailable at logout; its entry expires within %ss",
                           getattr(settings, "SESSION_CACHE_SECONDS", 300))

    def _cache_set(self, data, seconds: int) -> None:
        try:
            self._cache.set(self.cache_key, data, seconds)
        except Exception:  # noqa: BLE001
            logger.warning("session cache unavailable; the session stays in the database only")
