"""A citizen's own pages, rendered once for the data they show and served again while it stays the same.

A citizen following a case reloads 我的申请 and the case's page until the result comes: most
visits render the same rows into the same HTML. Rendering (the site shell, the page's template
and tags) was half of those pages' time; reading their rows a tenth. So the rows are still read
on every request, by the same selectors and access rules, and the HTML rendered from them is kept
in this process's memory, keyed by **everything the page was rendered from**:

* the account (its key: two accounts never share an entry, whatever else matches);
* every value of the view's context, model instances by their loaded field values and the
  related rows cached on them (``context_key``);
* what the site shell adds (``_shell_key``): language, time zone, path and query (the shell's
  forms send the visitor back there), elder mode, the unread badge;
* the template's name. Templates, code and translations change only with a new process.

The account's key and the template's name are kept as they are, the values as a digest of them.

On PostgreSQL both pages go one step further (``memo_render(..., read=...)``): they are keyed on
the rows their statement returned, as it returned them, and their context is built only when the
page is rendered. A kept page is then served without making a single instance of its rows or
keying them (the case page: its case, patient, timeline and files, two decryptions). The key holds
the account's row and the shell as above, the rows, and the generation of this process's copy of
the catalog (``catalog.selectors.catalog_copy_generation``), the one other thing those pages are
built from; it changes when a catalog row in the copy reads differently, at the latest when the
copy is refreshed. A page whose building or rendering runs a statement of its own (other than the
copy reading rows it lacks) is served and not kept: its rows were not all it was made from.

Nothing is invalidated, because nothing can go stale: a case that moves on reads differently, so
its page misses and is rendered afresh; the old entry ages out of the LRU. What is *not* keyed
makes the page bypass the memo: flash messages waiting to be shown, a context value of a type
``context_key`` does not know. ``tests/portal/test_page_memo`` holds every memoised page to a
fresh rendering byte for byte, checks that rendering them reads nothing the key does not cover (no
query while rendering), and that the context processors are the ones keyed here.

CSRF: the page is rendered with a placeholder for the token and the request's own (masked)
token put in its place on every serve, so a kept page never carries another request's token, and
the token cookie is set as a normal rendering would.

The entries hold personal data (patients' masked names, diseases, case numbers, statuses, file
names), as the request did while rendering: they live only in this process's memory, bounded by
``PAGE_MEMO_BYTES`` (0 turns the memo off), are never written to Redis, disk or logs, and go
with the process.
"""
from __future__ import annotations

import datetime as dt
import decimal
import enum
import hashlib
import os
import pickle
import threading
import uuid
from collections import OrderedDict

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.paginator import Page
from django.db import connection
from django.db.models import Model
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH, get_token
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.functional import Promise

from portal.context_processors import ELDER_MODE_COOKIE

# The context processors whose output _shell_key covers (settings.TEMPLATES). A new processor
# must be added here with what it adds to the key: tests/portal/test_page_memo fails until it is.
KEYED_CONTEXT_PROCESSORS = frozenset({
    "django.template.context_processors.request",  # the path and query: in the key
    "django.template.context_processors.i18n",  # the language: in the key
    "django.contrib.auth.context_processors.auth",  # the account: in the key
    "django.contrib.messages.context_processors.messages",  # any waiting message: no memo
    "portal.context_processors.shell",  # elder mode (in the key), the embedded flag (per process)
    "notifications.context_processors.inbox",  # the unread badge: in the key
})

# What the page is rendered with in place of the CSRF token; 32 random hex digits per process, so
# no page's own text can contain it.
_TOKEN_PLACEHOLDER = f"csrf-placeholder-{uuid.uuid4().hex}"


class _Unkeyable(Exception):
    """A context value ``context_key`` cannot key: the page is rendered as usual."""


class _Memo:
    """An LRU of rendered pages bounded by their size in characters (a thread-safe OrderedDict)."""

    def __init__(self) -> None:
        self._entries: OrderedDict[tuple, str] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple) -> str | None:
        with self._lock:
            html = self._entries.get(key)
            if html is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return html

    def put(self, key: tuple, html: str, budget: int) -> None:
        if len(html) > budget:
            return
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._size -= len(previous)
            self._entries[key] = html
            self._size += len(html)
            while self._size > budget:
                _, dropped = self._entries.popitem(last=False)
                self._size -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._size = 0
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)


memo = _Memo()


def page_memo_clear() -> None:
    """Drop every kept page of this process (between tests)."""
    memo.clear()


def memo_render(request: HttpRequest, template_name: str, context, *, read=None) -> HttpResponse:
    """``render(request, template_name, context)``, served from this process's memo when the
    account has seen this page rendered from these same values (module docstring).

    ``context`` is the page's context, or a function that builds it. ``read``, if given, is what
    the page's statements returned, as they returned it (tuples of plain values): the function
    builds the context from those rows alone, with the account, the shell and this process's copy
    of the catalog. The page is then keyed on the rows instead of the context (``_read_key``), and
    the context is built only for a page not kept. A build or rendering that reads the database,
    or during which the catalog copy changed, is served but not kept: the rows were not all it
    was made from."""
    budget = getattr(settings, "PAGE_MEMO_BYTES", 0)
    if read is not None and budget > 0:
        keyed = _read_key(request, template_name, read)
        if keyed is not None:
            key, generation = keyed
            html = memo.get(key)
            if html is None:
                html = _render_alone(request, template_name, context, key, generation, budget)
            return HttpResponse(html.replace(_TOKEN_PLACEHOLDER, request_token(request)))
    if callable(context):
        context = context()
    key = _page_key(request, template_name, context) if budget > 0 else None
    if key is None:
        return HttpResponse(render_to_string(template_name, context, request))
    html = memo.get(key)
    if html is None:
        html = render_to_string(template_name, {**context, "csrf_token": _TOKEN_PLACEHOLDER}, request)
        memo.put(key, html, budget)
    return HttpResponse(html.replace(_TOKEN_PLACEHOLDER, request_token(request)))


def _render_alone(request: HttpRequest, template_name: str, context, key: tuple, generation: int, budget: int) -> str:
    """Build and render a page keyed on its rows; keep it only if it read nothing but them: no
    statement of its own (rows the catalog copy gains are no change to what was kept before, see
    ``catalog_copy_generation``), and the copy's generation is the one in the key."""
    from catalog.selectors import catalog_copy_generation, catalog_copy_loading

    statements: list[str] = []

    def count(execute, sql, params, many, execution):
        if not catalog_copy_loading():
            statements.append(sql)
        return execute(sql, params, many, execution)

    with connection.execute_wrapper(count):
        built = context() if callable(context) else context
        html = render_to_string(template_name, {**built, "csrf_token": _TOKEN_PLACEHOLDER}, request)
    if not statements and catalog_copy_generation() == generation:
        memo.put(key, html, budget)
    return html


def _read_key(request: HttpRequest, template_name: str, read) -> tuple[tuple, int] | None:
    """The key of a page built from ``read`` alone (``memo_render``), and the catalog copy's
    generation it holds: the account's row, the shell, the copy's generation, the rows."""
    from catalog.selectors import catalog_copy_generation

    user = _keyable_account(request)
    if user is None:
        return None
    generation = catalog_copy_generation()
    try:
        values = ("read", context_key(user, {}), _shell_key(request), generation, read)
        digest = hashlib.blake2b(pickle.dumps(values, protocol=pickle.HIGHEST_PROTOCOL), digest_size=32).digest()
    except (_Unkeyable, pickle.PicklingError, TypeError, AttributeError):
        return None
    return (user.pk, template_name, digest), generation


_CSRF_INDEX = {char: i for i, char in enumerate(CSRF_ALLOWED_CHARS)}
_CSRF_BASE = len(CSRF_ALLOWED_CHARS)  # 62
_CSRF_UNBIASED = 256 - 256 % _CSRF_BASE  # bytes from 248 up are dropped: each of the 62 is 4 of the 248


def request_token(request: HttpRequest) -> str:
    """``django.middleware.csrf.get_token(request)``, as ``{% csrf_token %}`` calls it: this
    request's secret, masked afresh, with the cookie flagged to be sent (renewed) with the response.

    The same token in the same format, with the mask drawn from one read of ``os.urandom``:
    Django draws each of its 32 characters by ``secrets.choice``, one ``os.urandom`` call each,
    about 40 µs of every kept page. Bytes of 248 and above are dropped so that each character
    stays equally likely. A request without a secret yet gets Django's own (it makes the secret)."""
    secret = request.META.get("CSRF_COOKIE")
    if not secret or len(secret) != CSRF_SECRET_LENGTH or not all(char in _CSRF_INDEX for char in secret):
        return get_token(request)
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True  # what get_token does: renew the cookie's expiry
    mask: list[int] = []
    while len(mask) < CSRF_SECRET_LENGTH:
        mask += [byte % _CSRF_BASE for byte in os.urandom(48) if byte < _CSRF_UNBIASED]
    mask = mask[:CSRF_SECRET_LENGTH]
    chars = CSRF_ALLOWED_CHARS
    cipher = "".join(chars[(_CSRF_INDEX[char] + m) % _CSRF_BASE] for char, m in zip(secret, mask))
    return "".join(chars[m] for m in mask) + cipher


def _keyable_account(request: HttpRequest):
    """The signed-in account (the user itself, not its lazy wrapper) whose page may be kept;
    None for a visitor, or while a flash message waits to be shown."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    if len(get_messages(request)):  # counting loads them without marking them shown
        return None
    return getattr(user, "_wrapped", user)


def _page_key(request: HttpRequest, template_name: str, context: dict) -> tuple | None:
    user = _keyable_account(request)
    if user is None:
        return None
    try:
        seen: dict = {}
        values = (context_key(user, seen), _shell_key(request), context_key(context, seen))
        # Kept as a digest: the values themselves (a case page's are some 400 strings, dates and
        # numbers) would take more memory than the page. Pickling writes every value with its
        # type, so equal digests mean equal values; equal values may pickle differently (a set's
        # order), which costs a rendering, never a wrong page.
        digest = hashlib.blake2b(pickle.dumps(values, protocol=pickle.HIGHEST_PROTOCOL), digest_size=32).digest()
    except (_Unkeyable, pickle.PicklingError, TypeError, AttributeError):
        return None
    return (user.pk, template_name, digest)


def _shell_key(request: HttpRequest) -> tuple:
    from notifications.selectors import inbox_unread_count

    return (
        translation.get_language(),
        timezone.get_current_timezone_name(),
        request.get_full_path(),
        request.COOKIES.get(ELDER_MODE_COOKIE) == "1",
        inbox_unread_count(user=request.user),
    )


_PLAIN = (str, int, float, bool, decimal.Decimal, dt.date, dt.time, dt.timedelta, uuid.UUID, bytes, type(None), enum.Enum)
# The exact types a row's values have when read from the database (subclasses go the long way).
_PLAIN_TYPES = frozenset({str, int, float, bool, decimal.Decimal, dt.date, dt.datetime, dt.time, dt.timedelta, uuid.UUID, bytes, type(None)})
_ROW_TYPES = _PLAIN_TYPES | {dict, list}


def context_key(value, seen: dict | None = None) -> object:
    """What the page is rendered from, in values that pickle alike only when they are alike
    (``_page_key`` digests the pickle): plain values as they are, containers item by item, a
    model instance as its class, its loaded ``__dict__`` values (JSON as it is) and the related
    rows cached on it, an unbound form as its class.
    Raises ``_Unkeyable`` for anything else (a bound form, a queryset, an object with state of
    its own), so the page is rendered as usual rather than keyed on less than it shows.

    ``seen`` keeps the key of each instance already keyed in this call: a page's rows are in its
    context twice (the rows, and the page of the paginator)."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, Promise):  # a lazy translation: the language is in the key
        return str(value)
    if seen is None:
        seen = {}
    if isinstance(value, Model):
        key = seen.get(id(value))
        if key is None:
            # Related rows can point back (a one-to-one caches both ends): met again inside
            # itself, an instance is named, its values being keyed already where it was first met.
            seen[id(value)] = ("row", type(value), value.pk)
            key = seen[id(value)] = _instance_key(value, seen)
        return key
    if isinstance(value, dict):
        return ("dict", tuple((context_key(k, seen), context_key(v, seen)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return ("seq", tuple(context_key(item, seen) for item in value))
    if isinstance(value, (set, frozenset)):
        return ("set", frozenset(context_key(item, seen) for item in value))
    if isinstance(value, Page):
        # What the pager shows (the count is the one the template would read anyway) and the rows.
        return ("page", value.number, value.paginator.num_pages, context_key(list(value.object_list), seen))
    if isinstance(value, BaseForm) and not value.is_bound and not value.initial:
        return ("form", type(value))
    raise _Unkeyable(type(value).__name__)


def _instance_key(obj: Model, seen: dict | None = None) -> tuple:
    values = obj.__dict__.copy()
    del values["_state"]
    prefetched = values.pop("_prefetched_objects_cache", None)
    cached = obj._state.fields_cache
    related = tuple(
        (name, None if row is None else context_key(row, seen)) for name, row in cached.items()
    ) if cached else ()
    if prefetched:
        related += tuple((name, context_key(list(rows), seen)) for name, rows in prefetched.items())
    # Most rows hold only plain values and JSON (dicts and lists, which the pickle that digests
    # the key writes whole): their items as they are (set, map and type run in C; a page of 20
    # cases with their patients and catalog rows is 80 instances).
    if set(map(type, values.values())) <= _ROW_TYPES:
        return (type(obj), tuple(values.items()), related)
    return (type(obj), tuple((name, context_key(value, seen)) for name, value in values.items()), related)
