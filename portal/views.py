from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from portal.context_processors import ELDER_MODE_COOKIE
from portal.health import health_report


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, checks = health_report()
    return JsonResponse({"status": "ok" if healthy else "fail", "checks": checks}, status=200 if healthy else 503)


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or "/"
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return "/"


@require_POST
def elder_mode(request: HttpRequest) -> HttpResponse:
    """Turn large-text mode on or off; remembered for a year in a cookie (no account needed)."""
    response = redirect(_safe_next(request))
    enabled = request.POST.get("enabled") == "1"
    response.set_cookie(
        ELDER_MODE_COOKIE,
        "1" if enabled else "0",
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
    )
    return response


def rate_limited(request: HttpRequest, exception=None) -> HttpResponse:
    """The 429 page allauth shows (via ``handler429``) when a rate limit refuses a request."""
    from django.urls import reverse

    path = request.path
    code_paths = ("account_signup", "account_verify_phone", "account_request_login_code", "account_confirm_login_code")
    if path.startswith(tuple(reverse(name) for name in code_paths)):
        reason = "code"
    elif path.startswith(reverse("account_login")):
        reason = "login"
    else:
        reason = "other"
    message = getattr(request, "rate_limit_message", "")
    return render(request, "429.html", {"reason": reason, "message": message}, status=429)
