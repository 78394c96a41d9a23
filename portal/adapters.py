"""allauth, told how this portal keeps phone numbers and sends codes.

Citizens have no username or email: the mobile number on ``User.phone`` is the login, verified
by an SMS code. Codes leave through ``notifications.services.sms_send_login_code`` only, so the
outbox, the gateway choice and the providers' per-number caps apply to them like to any SMS.

Enumeration prevention is on: whether a number has an account here hints that its owner has a
chronic disease, so the login and signup pages answer the same for every number. The number itself
learns the truth by SMS: "no account, sign up" (login with an unknown number) or "you already have
an account, log in with a code" (signup with a registered number). Those notices and the codes are
one family for the per-number limits (one a minute, a daily cap), so no refusal tells them apart.
"""
from __future__ import annotations

import secrets

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from allauth.account.adapter import DefaultAccountAdapter

from notifications.errors import SmsLimitExceeded
from portal.phone_numbers import phone_normalize
from portal.rate_limits import SmsCodeTooSoon


class MobileNumberField(forms.CharField):
    """A mainland mobile number in any usual spelling; cleans to the 11 digits."""

    default_error_messages = {
        "invalid": _("请输入 11 位中国大陆手机号（以 1 开头，第二位为 3–9），例如 138 0013 8000。"),
        "required": _("请输入手机号。"),
    }

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("label", _("手机号"))
        kwargs.setdefault("max_length", 24)
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={
                    "type": "tel",
                    "inputmode": "numeric",
                    "autocomplete": "tel-national",
                    "placeholder": _("11 位手机号"),
                }
            ),
        )
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return value
        phone = phone_normalize(value)
        if phone is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return phone


class AccountAdapter(DefaultAccountAdapter):
    # allauth's own wording is about email and usernames; citizens only ever see these.
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "incorrect_code": _("验证码不正确，请核对短信中的 6 位数字。"),
        "phone_password_mismatch": _("手机号或密码不正确。没有设置密码？请用短信验证码登录。"),
        # With enumeration prevention on, "unknown_phone" is never raised and "phone_taken" only
        # after a valid code to the number proved the person owns it (changing to a number that
        # another account uses).
        "phone_taken": _("该手机号已注册，请直接登录。"),
        "unknown_phone": _("该手机号尚未注册，请先注册。"),
        # allauth uses one key both for "asked for codes too often" and "typed wrong codes too often".
        "too_many_login_attempts": _(
            "尝试过于频繁，请稍后重新获取验证码（同一手机号每分钟只能获取一次验证码，验证码输错 3 次即失效）。"
        ),
        "rate_limited": _("验证码发送过于频繁：同一手机号每分钟只能获取一次，每天次数有限，请稍后再试。"),
        "invalid_login": _("请输入手机号。"),
        "same_as_current": _("新手机号与当前手机号相同。"),
        "account_inactive": _("该账户已停用，请联系客服。"),
    }

    # --- phone storage -------------------------------------------------------------------
    def phone_form_field(self, **kwargs):
        kwargs.pop("label", None)
        return MobileNumberField(**kwargs)

    def clean_phone(self, phone: str) -> str:
        normalized = phone_normalize(phone)
        if normalized is None:
            raise forms.ValidationError(MobileNumberField.default_error_messages["invalid"], code="invalid")
        return normalized

    def set_phone(self, user, phone: str, verified: bool) -> None:
        user.phone = phone_normalize(phone) or phone
        user.phone_verified = verified
        user.save(update_fields=["phone", "phone_verified"])

    def get_phone(self, user) -> tuple[str, bool] | None:
        if not user.phone:
            return None
        return user.phone, user.phone_verified

    def set_phone_verified(self, user, phone: str) -> None:
        # The code proved this number belongs to the user: at signup and login it is the number
        # on file; when changing numbers it is the new one, which becomes the login from now on.
        self.set_phone(user, phone, True)

    def get_user_by_phone(self, phone: str):
        normalized = phone_normalize(phone)
        if normalized is None:
            return None
        return get_user_model().objects.filter(phone=normalized, is_active=True).first()

    # --- sending ---------------------------------------------------------------------------
    def send_verification_code_sms(self, user, phone: str, code: str, **kwargs) -> None:
        """Hand the code to the one SMS sender, which allows one code per number per minute
        and a daily cap; a refusal becomes allauth's "rate limited" (a message or the 429 page)."""
        from notifications.services import sms_send_login_code

        phone = phone_normalize(phone) or phone
        try:
            sms_send_login_code(phone=phone, code=code)
        except SmsLimitExceeded as exc:
            raise SmsCodeTooSoon(exc.message) from exc

    def send_unknown_account_sms(self, phone: str, **kwargs) -> None:
        """Login by code for a number without an account: the page says "code sent" as for any
        number, and the number gets a notice that there is no account and how to sign up."""
        self._send_account_notice(phone=phone, template_key=UNKNOWN_ACCOUNT_SMS)

    def send_account_already_exists_sms(self, phone: str) -> None:
        """Signup with a registered number: the page goes on to "enter the code" as for a new number,
        and the number gets a notice that it already has an account and can log in with a code."""
        self._send_account_notice(phone=phone, template_key=ACCOUNT_EXISTS_SMS)

    def _send_account_notice(self, *, phone: str, template_key: str) -> None:
        """Counted with login codes by the SMS layer, so timing cannot tell the cases apart."""
        from notifications.services import sms_send_account_notice

        phone = phone_normalize(phone) or phone
        try:
            sms_send_account_notice(phone=phone, template_key=template_key)
        except SmsLimitExceeded as exc:
            raise SmsCodeTooSoon(exc.message) from exc

    def generate_phone_verification_code(self, *, user, phone: str) -> str:
        # Six digits, like every Chinese SMS code: it fits the number keypad and autofill.
        return f"{secrets.randbelow(10**6):06d}"

    # --- accounts without usernames ----------------------------------------------------------
    def populate_username(self, request, user) -> None:
        """Citizens never see a username; give each a random one (not the phone: it can change)."""
        if not user.username:
            user.username = f"c_{secrets.token_hex(8)}"


# The notice templates (their limits live with the login codes in notifications.limits).
UNKNOWN_ACCOUNT_SMS = "login_unknown_account"
ACCOUNT_EXISTS_SMS = "signup_account_exists"
