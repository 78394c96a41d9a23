"""Turning every rate-limit refusal around SMS codes into a clear 429 page, never a 500.

allauth limits requests per IP and per number (``ACCOUNT_RATE_LIMITS``) and the SMS layer
(``notifications.services.sms_send_login_code``) allows one code per number per minute and a
daily cap. Some of allauth's flows (the phone verification after signup, the first send of a
login code) let ``RateLimited`` escape the view; ``RateLimitedMiddleware`` answers those.
"""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from allauth.core.exceptions import RateLimited
from allauth.core.ratelimit import respond_429


class SmsCodeTooSoon(RateLimited):
    """The SMS layer refused a code for this number now; ``message`` says why, for the citizen."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class RateLimitedMiddleware:
    """Answer an uncaught allauth ``RateLimited`` with the 429 page instead of a server error."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, RateLimited):
            # The handler429 view shows the SMS layer's own words (e.g. the daily cap) when present.
            request.rate_limit_message = getattr(exception, "message", "")
            return respond_429(request)
        return None
