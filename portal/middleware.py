"""Cross-cutting HTTP hardening: request ids and access log, Content-Security-Policy, no-store.

Each middleware is configured by plain settings in ``portal/settings/base.py`` so every
environment (tests included) runs the same policy that production does.
"""
from __future__ import annotations

import logging
import re
import uuid
from functools import partial
from time import monotonic, time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth import middleware as auth_middleware
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.utils.functional import SimpleLazyObject
from django.utils.http import http_date

from portal.log_format import request_id_var

access_log = logging.getLogger("portal.access")

# An id from the proxy is trusted only if it is short and boring: it is echoed into headers
# and logs, so anything else (newlines, quotes, megabytes) is replaced by a fresh one.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")


class RequestIdMiddleware:
    """Give every request an id (the proxy's ``X-Request-ID`` if sane), log one access line.

    The access line carries the path without its query string: the public lookup takes an
    acceptance number or ID number as query parameters, and those never belong in a log.
    gunicorn's own access log stays off for the same reason (see deploy/gunicorn.conf.py).
    """

    header = "X-Request-ID"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = monotonic()
        try:
            response = self.get_response(request)
            response[self.header] = request_id
            access_log.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((monotonic() - started) * 1000, 1),
                },
            )
            return response
        finally:
            request_id_var.reset(token)


class ContentSecurityPolicyMiddleware:
    """Send ``settings.CONTENT_SECURITY_POLICY`` on every response that does not set its own.

    The policy allows scripts and styles from our own origin only: no inline script, no
    ``eval``. Templates put behaviour in ``static/js/`` files instead of ``onchange=`` attributes.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = "; ".join(
            f"{directive} {' '.join(sources)}".strip()
            for directive, sources in settings.CONTENT_SECURITY_POLICY.items()
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response


NO_STORE = "max-age=0, no-cache, no-store, must-revalidate, private"


class NoStoreForPersonalDataMiddleware:
    """``Cache-Control: no-store`` wherever personal data can be on the page.

    The rule: every response to a signed-in user, and every response under a path in
    ``settings.NO_STORE_PATH_PREFIXES`` (my account, applications, public tracking, messages,
    reviews, the admin) whoever asks. A shared family tablet or a proxy cache must not keep a
    copy of someone's diagnosis. Public pages (catalog, home, static files) stay cacheable.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        admin_prefix = "/" + settings.ADMIN_URL.strip("/") + "/"
        self.prefixes = tuple(settings.NO_STORE_PATH_PREFIXES) + (admin_prefix,)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or request.path.startswith(self.prefixes):
            if "Cache-Control" in response or "Expires" in response:
                add_never_cache_headers(response)  # merge with what the view set
            else:
                # What add_never_cache_headers writes on a response without either header, spelled
                # out: its two parse-and-merge passes were some 30 µs of every signed-in page.
                response.headers["Expires"] = http_date(time())
                response.headers["Cache-Control"] = NO_STORE
        return response


class AuthenticationMiddleware(auth_middleware.AuthenticationMiddleware):
    """Django's, with the account the session was read with (``portal.sessions``) handed to the
    backend, and a session signed in under a backend's old path moved to its successor.

    ``portal.auth_backends`` replaced Django's and allauth's backends (the same classes with a
    cheaper user read). A session names the backend that signed it in, and Django signs out a
    session whose backend is no longer in ``AUTHENTICATION_BACKENDS``; so the first request of
    such a session rewrites the name (one session save), and nobody is signed out by the change.
    Once no session older than that change can be alive (``SESSION_COOKIE_AGE`` after the
    deploy), the move can go.
    """

    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _user(request))
        request.auser = partial(_auser, request)


def _move_to_successor_backend(session) -> None:
    from portal.auth_backends import SUCCESSORS

    successor = SUCCESSORS.get(session.get(BACKEND_SESSION_KEY))
    if successor is not None and successor in settings.AUTHENTICATION_BACKENDS:
        session[BACKEND_SESSION_KEY] = successor


def _user(request):
    if hasattr(request, "_cached_user"):
        return request._cached_user
    from portal.auth_backends import account_row_given

    session = request.session
    _move_to_successor_backend(session)  # reads the session, and with it its account (portal.sessions)
    with account_row_given(getattr(session, "account_row", None)):
        return auth_middleware.get_user(request)


async def _auser(request):
    if not hasattr(request, "_acached_user"):
        await sync_to_async(_move_to_successor_backend)(request.session)
    return await auth_middleware.auser(request)
