"""Staff sign-in: a second factor (TOTP, stored by allauth.mfa), lockout, idle timeout.

Citizens sign in through allauth by mobile number and are untouched by all of this: every rule
here applies to ``is_staff`` accounts only.

- The admin login form (``StaffLoginForm``, installed as ``admin.site.login_form``) asks for the
  6-digit authenticator code of a staff member who has enrolled TOTP, and marks the session as
  verified. A staff session that is not verified (e.g. a staff account that signed in some
  other way) is logged out by the middleware.
- A staff member without TOTP, when ``settings.STAFF_MFA_REQUIRED`` is on, is sent to the
  enrollment page and can do nothing else until they have enrolled.
- After ``STAFF_LOGIN_MAX_FAILURES`` failed logins (wrong password or code) the username is
  locked for ``STAFF_LOGIN_LOCKOUT_SECONDS``; the counter lives in the cache (Redis in production)
  so every web worker shares it.
- A staff session idle for ``STAFF_IDLE_TIMEOUT_SECONDS`` is logged out.
"""
from __future__ import annotations

import time

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import logout
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

SESSION_MFA_VERIFIED = "reviews.staff_mfa_verified"
SESSION_LAST_SEEN = "reviews.staff_last_seen"


def _max_failures() -> int:
    return int(getattr(settings, "STAFF_LOGIN_MAX_FAILURES", 5))


def _lockout_seconds() -> int:
    return int(getattr(settings, "STAFF_LOGIN_LOCKOUT_SECONDS", 15 * 60))


def mfa_required() -> bool:
    return bool(getattr(settings, "STAFF_MFA_REQUIRED", True))


def _failure_key(username: str) -> str:
    return f"reviews:staff-login-failures:{username.strip().lower()}"


def staff_login_is_locked(*, username: str) -> bool:
    return int(cache.get(_failure_key(username), 0)) >= _max_failures()


def staff_login_failure_record(*, username: str) -> int:
    key = _failure_key(username)
    # add() starts the window; incr() keeps its expiry, so the lock lifts a fixed time after the
    # first failure of a burst rather than being extended forever by an attacker.
    cache.add(key, 0, timeout=_lockout_seconds())
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=_lockout_seconds())
        return 1


def staff_login_failures_clear(*, username: str) -> None:
    cache.delete(_failure_key(username))


def totp_authenticator_get(*, user) -> Authenticator | None:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()


class StaffLoginForm(AdminAuthenticationForm):
    otp_code = forms.CharField(
        label=gettext_lazy("动态验证码"),
        required=False,
        max_length=8,
        help_text=gettext_lazy("身份验证器 App 显示的 6 位数字（已绑定的工作人员必填）"),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        if username and staff_login_is_locked(username=username):
            raise ValidationError(
                _("登录失败次数过多，账户已临时锁定，请 %(minutes)s 分钟后再试。")
                % {"minutes": _lockout_seconds() // 60},
                code="locked",
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            if username:
                staff_login_failure_record(username=username)
            raise
        user = self.get_user()
        authenticator = totp_authenticator_get(user=user)
        if authenticator is not None:
            code = (self.cleaned_data.get("otp_code") or "").strip()
            if not code or not TOTP(authenticator).validate_code(code):
                staff_login_failure_record(username=username)
                raise ValidationError(_("动态验证码不正确或已使用。"), code="bad_otp")
            authenticator.record_usage()
            self.request.session[SESSION_MFA_VERIFIED] = True
        staff_login_failures_clear(username=username)
        return cleaned


def staff_totp_activate(*, request, user, secret: str, code: str) -> Authenticator:
    """Enroll the staff member's authenticator once they prove it shows the right code."""
    from allauth.mfa.totp.internal.auth import validate_totp_code

    if totp_authenticator_get(user=user) is not None:
        raise ValidationError(_("已绑定身份验证器。"), code="already_enrolled")
    if not validate_totp_code(secret, (code or "").strip()):
        raise ValidationError(_("验证码不正确，请核对手机上的时间后重试。"), code="bad_otp")
    authenticator = TOTP.activate(user, secret).instance
    request.session[SESSION_MFA_VERIFIED] = True
    return authenticator


def _exempt(path: str) -> bool:
    admin_prefix = "/" + getattr(settings, "ADMIN_URL", "admin/").strip("/") + "/"
    exempt = (
        admin_prefix + "login/",
        admin_prefix + "logout/",
        reverse("reviews:totp_enroll"),
        settings.STATIC_URL,
        "/healthz",
    )
    return path.startswith(exempt)


class StaffSecurityMiddleware:
    """Idle timeout and the second-factor requirement for staff sessions (see module docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff and not _exempt(request.path):
            response = self._check(request, user)
            if response is not None:
                return response
        return self.get_response(request)

    def _login_redirect(self, request, message: str):
        logout(request)
        messages.warning(request, message)
        login_url = reverse("admin:login")
        return HttpResponseRedirect(f"{login_url}?{urlencode({'next': request.get_full_path()})}")

    def _check(self, request, user):
        now = int(time.time())
        idle_limit = int(getattr(settings, "STAFF_IDLE_TIMEOUT_SECONDS", 30 * 60))
        last_seen = request.session.get(SESSION_LAST_SEEN)
        if last_seen is not None and now - int(last_seen) > idle_limit:
            return self._login_redirect(request, _("长时间未操作，已自动退出，请重新登录。"))
        request.session[SESSION_LAST_SEEN] = now
        if request.session.get(SESSION_MFA_VERIFIED):
            return None
        if totp_authenticator_get(user=user) is not None:
            return self._login_redirect(request, _("请使用用户名、密码和动态验证码登录管理后台。"))
        if mfa_required():
            return HttpResponseRedirect(reverse("reviews:totp_enroll"))
        return None
