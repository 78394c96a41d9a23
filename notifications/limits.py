"""Rules checked before a provider is called: quiet hours and per-number limits.

Providers cap sends per number too (Aliyun 10 a day for codes, Tencent as few as 2 a day for the
same content); ours are stricter so the provider's limit is never what stops a supplement request.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Exists, QuerySet
from django.utils import timezone

from notifications.models import Channel, Notification, NotificationStatus

LOGIN_CODE = "login_code"
# Everything a login or signup attempt sends: the code, or (with enumeration prevention) a notice
# that the number has no account / already has one. One group with its own limits, so attempts
# can neither tell the cases apart by timing nor eat into the number's daily result-SMS quota.
ACCOUNT_SMS_KEYS = (LOGIN_CODE, "login_unknown_account", "signup_account_exists")
DAY = timedelta(hours=24)


def quiet_hours() -> tuple[int, int]:
    start, _, end = settings.NOTIFICATIONS["QUIET_HOURS"].partition("-")
    return int(start), int(end)


def quiet_hours_end(*, now: datetime) -> datetime | None:
    """When quiet hours (local time, e.g. 21:00–08:00) are on, the moment they end; else None."""
    start, end = quiet_hours()
    if start == end:
        return None
    local = timezone.localtime(now)
    hour = local.hour
    inside = (start <= hour or hour < end) if start > end else (start <= hour < end)
    if not inside:
        return None
    day = local.date() if hour < end else local.date() + timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, time(end)), timezone.get_current_timezone())


RECIPIENT_LOCK_PREFIX = "notifications:sms:"


def recipient_lock(*, recipient: str) -> None:
    """Serialise limit checks for one number across workers until the transaction ends.

    SQLite (the embedded default) already serialises writers, so only PostgreSQL needs the lock.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"{RECIPIENT_LOCK_PREFIX}{recipient}"])


def recipient_lock_sql(*, recipient_column: str) -> str:
    """``recipient_lock`` as an SQL expression over a column (the same lock, the same key)."""
    return f"pg_advisory_xact_lock(hashtext('{RECIPIENT_LOCK_PREFIX}' || {recipient_column}))"


def _sms_daily_window(*, phone: str, now: datetime) -> QuerySet:
    # Rows handed to a provider (sending or sent) in the rolling last 24 hours, the window Aliyun
    # uses. Login codes and account notices have their own limits (``login_code_wait``).
    return Notification.objects.filter(
        channel=Channel.SMS,
        recipient=phone,
        status__in=(NotificationStatus.SENDING, NotificationStatus.SENT),
        claimed_at__gte=now - DAY,
    ).exclude(template_key__in=ACCOUNT_SMS_KEYS)


def sms_daily_limit_reached(*, phone: str, now: datetime) -> Exists:
    """A condition for the claim's UPDATE: ``phone`` already has its day's notification SMS.

    Evaluated in the claiming statement itself (one query fewer per SMS than asking first); it
    must run after ``recipient_lock`` so its snapshot sees every claim committed before.
    """
    limit = settings.NOTIFICATIONS["SMS_PER_NUMBER_PER_DAY"]
    return Exists(_sms_daily_window(phone=phone, now=now)[limit - 1 : limit])  # is there a limit-th row?


def sms_daily_limit_reached_sql(*, recipient_column: str) -> str:
    """``sms_daily_limit_reached`` as PostgreSQL text for a statement written by hand (the claim
    in one round trip, ``sending._claim_sql``), for the number in ``recipient_column``; it takes
    the named parameters ``%(window_start)s`` (now - 24 h) and ``%(limit_offset)s``
    (``sms_daily_limit_params``). ``test_limits`` holds both forms to the same answer."""
    quote = connection.ops.quote_name
    meta = Notification._meta

    def column(name: str) -> str:
        return f"recent.{quote(meta.get_field(name).column)}"

    def text_list(values) -> str:
        return ", ".join("'%s'" % str(value).replace("'", "''").replace("%", "%%") for value in values)

    return (
        f"EXISTS (SELECT 1 FROM {quote(meta.db_table)} recent"
        f" WHERE {column('recipient')} = {recipient_column} AND {column('channel')} = '{Channel.SMS.value}'"
        f" AND {column('status')} IN ({text_list([NotificationStatus.SENDING, NotificationStatus.SENT])})"
        f" AND {column('claimed_at')} >= %(window_start)s"
        f" AND {column('template_key')} NOT IN ({text_list(ACCOUNT_SMS_KEYS)})"
        " OFFSET %(limit_offset)s LIMIT 1)"  # is there a limit-th row?
    )


def sms_daily_limit_params(*, now: datetime) -> dict:
    return {"window_start": now - DAY, "limit_offset": settings.NOTIFICATIONS["SMS_PER_NUMBER_PER_DAY"] - 1}


def sms_daily_next_slot(*, phone: str, now: datetime) -> datetime | None:
    """None when another notification SMS may go to ``phone`` now; else when it may."""
    limit = settings.NOTIFICATIONS["SMS_PER_NUMBER_PER_DAY"]
    window = _sms_daily_window(phone=phone, now=now).order_by("-claimed_at").values_list("claimed_at", flat=True)
    recent = list(window[:limit])
    if len(recent) < limit:
        return None
    return recent[-1] + DAY


def login_code_wait(*, phone: str, now: datetime) -> tuple[str, int] | None:
    """('interval' | 'daily', seconds to wait) when a login code or account notice may not be sent
    now, else None (the whole ``ACCOUNT_SMS_KEYS`` group counts together)."""
    codes = Notification.objects.filter(channel=Channel.SMS, recipient=phone, template_key__in=ACCOUNT_SMS_KEYS)
    interval = timedelta(seconds=settings.NOTIFICATIONS["LOGIN_CODE_INTERVAL_SECONDS"])
    last = codes.filter(created_at__gt=now - interval).order_by("-created_at").values_list("created_at", flat=True).first()
    if last is not None:
        return "interval", max(1, int((last + interval - now).total_seconds() + 0.999))
    per_day = settings.NOTIFICATIONS["LOGIN_CODES_PER_NUMBER_PER_DAY"]
    today = list(
        codes.filter(created_at__gt=now - DAY).order_by("-created_at").values_list("created_at", flat=True)[:per_day]
    )
    if len(today) >= per_day:
        return "daily", max(1, int((today[-1] + DAY - now).total_seconds() + 0.999))
    return None
