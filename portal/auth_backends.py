"""Django's and allauth's authentication backends, with the user read as a prepared statement.

Every signed-in request loads its user (``ModelBackend.get_user``). On the bench's empty signed-in
page that queryset was a third of the request: about 330 µs of Python building
``User.objects.get(pk=...)`` around a read PostgreSQL answers in a few dozen. Here, on
PostgreSQL, the same row comes with the request's session (``portal.sessions`` reads both in one
statement), or, for a key the session did not bring, from a statement prepared once per connection
(``portal.prepared``), and is made into the same ``User``; the check after it (``is_active``) is
the backend's own. The same statement counts the account's unread messages for the header's badge
(``notifications.selectors.inbox_unread_count`` takes it from the user) and reads the key of the
account's own person (``applications.selectors.account_person_id``). Logging in, permissions and
everything else are the parent classes', unchanged.

Sessions name the backend that signed them in; ``portal.middleware.AuthenticationMiddleware``
moves sessions signed in under the parents' paths to these, so nobody is signed out by the change.
"""
from __future__ import annotations

import contextlib
import functools
from contextvars import ContextVar

from allauth.account import auth_backends as allauth_backends
from django.contrib.auth import backends, get_user_model
from django.core.exceptions import ValidationError
from django.db import connection

from portal import prepared
from portal.models import Identity


def account_select_sql(*, alias: str) -> str:
    """What every read of a signed-in account selects from its table under ``alias``: the key, the
    fields (``prepared.select_columns``), and in the same round trip the header's unread badge (on
    every citizen page; it was a cache read of its own, a tenth of an empty signed-in page) and
    the account's own person (the case page and the application steps compare patients with it;
    a query of its own). ``portal.sessions`` reads it with the session, ``get_user`` alone."""
    from notifications.selectors import inbox_unread_sql

    user = get_user_model()
    quote = connection.ops.quote_name
    key = f"{alias}.{quote(user._meta.pk.column)}"
    identity = Identity._meta
    own_person = (
        f"(SELECT i.{quote(identity.get_field('person').column)} FROM {quote(identity.db_table)} i"
        f" WHERE i.{quote(identity.get_field('user').column)} = {key})"
    )
    return f"{key}, {', '.join(prepared.select_columns(user, alias))}, {inbox_unread_sql(user_column=key)}, {own_person}"


@functools.cache
def _user_statement() -> prepared.Prepared:
    user = get_user_model()
    quote = connection.ops.quote_name
    return prepared.Prepared(
        "portal_account_read",
        f"SELECT {account_select_sql(alias='u')} FROM {quote(user._meta.db_table)} u"
        f" WHERE u.{quote(user._meta.pk.column)} = %(pk)s",
        {"pk": "bigint"},
    )


# The account's row as the request's session was read with it (``portal.sessions``), for
# ``get_user`` to take instead of reading it again; ``portal.middleware`` sets it around Django's
# ``get_user(request)``.
_row_read_with_session: ContextVar[tuple | None] = ContextVar("account_row_read_with_session", default=None)


@contextlib.contextmanager
def account_row_given(row: tuple | None):
    token = _row_read_with_session.set(row)
    try:
        yield
    finally:
        _row_read_with_session.reset(token)


# The key of the account's own person (its ``Identity.person``; None without one), read with the
# user. ``applications.selectors.account_person_id`` takes it from there.
OWN_PERSON_ATTRIBUTE = "_own_person_id_at_sign_in"


def own_person_forget(*, user) -> None:
    """This request changed the account's identity: the person read with the user is old.
    (``delattr`` reaches through ``request.user``'s lazy proxy.)"""
    try:
        delattr(user, OWN_PERSON_ATTRIBUTE)
    except AttributeError:
        pass


class _PreparedUserRead:
    def get_user(self, user_id):
        if connection.vendor != "postgresql":
            return super().get_user(user_id)
        from notifications.selectors import INBOX_UNREAD_ATTRIBUTE

        user_model = get_user_model()
        try:
            pk = user_model._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        row = _row_read_with_session.get()
        if row is None or row[0] != pk:
            rows = prepared.fetch(_user_statement(), {"pk": pk})
            if not rows:
                return None
            row = rows[0]
        _, *values, unread, own_person = row
        user = prepared.instance(user_model, frozenset(), values)
        setattr(user, INBOX_UNREAD_ATTRIBUTE, unread)
        setattr(user, OWN_PERSON_ATTRIBUTE, own_person)
        return user if self.user_can_authenticate(user) else None


class ModelBackend(_PreparedUserRead, backends.ModelBackend):
    """``django.contrib.auth.backends.ModelBackend`` (staff at the admin login)."""


class AuthenticationBackend(_PreparedUserRead, allauth_backends.AuthenticationBackend):
    """``allauth.account.auth_backends.AuthenticationBackend`` (citizens: phone and code)."""


# The paths sessions were signed in under before these classes, and their successors.
SUCCESSORS = {
    "django.contrib.auth.backends.ModelBackend": f"{__name__}.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend": f"{__name__}.AuthenticationBackend",
}
