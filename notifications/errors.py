"""Domain errors callers can turn into a message for the citizen."""
from __future__ import annotations

from django.utils.translation import gettext as _


class SmsLimitExceeded(Exception):
    """A per-number limit refuses this SMS now; ``retry_after`` seconds until it would not."""

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class LoginCodeTooSoon(SmsLimitExceeded):
    def __init__(self, *, retry_after: int):
        super().__init__(_("验证码发送过于频繁，请 %(seconds)s 秒后再试。") % {"seconds": retry_after}, retry_after=retry_after)


class LoginCodeDailyLimit(SmsLimitExceeded):
    def __init__(self, *, retry_after: int):
        super().__init__(_("该手机号今日获取验证码次数已达上限，请明天再试。"), retry_after=retry_after)
