"""Outbox services. Domain apps call ``notification_create`` inside the transaction of the event
that causes the notification; the row is the promise, the Celery task only delivers it."""
from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.errors import LoginCodeDailyLimit, LoginCodeTooSoon
from notifications.limits import ACCOUNT_SMS_KEYS, LOGIN_CODE, login_code_wait, quiet_hours_end, recipient_lock
from notifications.models import Channel, Notification, NotificationStatus
from notifications.phones import phone_normalise
from notifications.publishing import notification_publish_on_commit
from notifications.selectors import inbox_message_get, inbox_unread_cache_key, inbox_unread_forget_on_user
from notifications.templates_text import REMINDERS, template_params

logger = logging.getLogger(__name__)


@transaction.atomic
def notification_create(
    *,
    event_key: str,
    template_key: str,
    params: dict,
    user=None,
    phone: str | None = None,
    channels: Iterable[str] = (Channel.SMS, Channel.INBOX),
    urgent: bool = True,
) -> list[Notification]:
    """Write one outbox row per channel for an event; a second call for the same event is a no-op.

    ``event_key`` names the cause uniquely (e.g. ``application:17:approved``); together with the
    channel and recipient it is unique in the database, so retries never create a second SMS.

    The SMS row is queued after commit (or, for a non-urgent row written during quiet hours, held
    until they end and picked up by the sweep). Reminder templates (``REMINDERS``) are never urgent. The inbox row *is* the delivery, so it is written
    as sent. Raises ``KeyError``/``ValueError`` for an unknown template or a missing parameter:
    a programming error that should fail the caller's tests.
    """
    template_params(template_key, params)  # validate now, not in a worker hours later
    urgent = urgent and template_key not in REMINDERS
    now = timezone.now()
    hold_until = None if urgent else quiet_hours_end(now=now)
    created: list[Notification] = []
    for channel in channels:
        extra: dict = {}
        if channel == Channel.SMS:
            recipient = phone_normalise(phone or (getattr(user, "phone", None) if user else None) or "")
            if not recipient:
                continue
            extra["not_before"] = hold_until
        else:
            if user is None:
                continue
            recipient = f"user:{user.pk}"
            extra.update(status=NotificationStatus.SENT, sent_at=now, provider="inbox")
        try:
            with transaction.atomic():
                notification = Notification.objects.create(
                    event_key=event_key,
                    channel=channel,
                    recipient=recipient,
                    user=user,
                    template_key=template_key,
                    params=params,
                    urgent=urgent,
                    **extra,
                )
        except IntegrityError:
            continue  # already written for this event: idempotent
        created.append(notification)
        if channel == Channel.INBOX:
            transaction.on_commit(lambda user_id=user.pk: inbox_unread_forget(user_id=user_id))
        if channel == Channel.SMS and hold_until is None:
            notification_publish_on_commit(notification_id=notification.pk)
    return created


@transaction.atomic
def sms_send_login_code(*, phone: str, code: str) -> Notification:
    """The one SMS sender interface for login/verification codes (allauth's adapter calls it).

    Enforces one code per number per minute and a daily cap per number; raises
    ``LoginCodeTooSoon`` / ``LoginCodeDailyLimit`` (both ``SmsLimitExceeded``, with ``message``
    and ``retry_after``) for the caller to show. Nothing is written when refused.
    """
    return _sms_send_account(phone=phone, template_key=LOGIN_CODE, params={"code": code})


@transaction.atomic
def sms_send_account_notice(*, phone: str, template_key: str) -> Notification:
    """A notice instead of a code (enumeration prevention): the number has no account, or has
    one already. Same limits as codes, counted together with them; same exceptions."""
    if template_key not in ACCOUNT_SMS_KEYS or template_key == LOGIN_CODE:
        raise ValueError(f"{template_key!r} is not an account notice")
    return _sms_send_account(phone=phone, template_key=template_key, params={})


def _sms_send_account(*, phone: str, template_key: str, params: dict) -> Notification:
    phone = phone_normalise(phone)
    recipient_lock(recipient=phone)  # two requests in the same second must not both pass the check
    wait = login_code_wait(phone=phone, now=timezone.now())
    if wait is not None:
        kind, seconds = wait
        raise (LoginCodeTooSoon if kind == "interval" else LoginCodeDailyLimit)(retry_after=seconds)
    created = notification_create(
        event_key=f"{template_key}:{uuid.uuid4().hex}",
        template_key=template_key,
        params=params,
        phone=phone,
        channels=(Channel.SMS,),
        urgent=True,
    )
    return created[0]


@transaction.atomic
def notification_resend(*, notification_id: int, by=None) -> Notification:
    """Staff: give a dead (or failed) SMS a fresh set of attempts.

    Clears ``delivery_uncertain``: resending a row whose earlier attempt may have gone out is a
    person's decision, taken after checking the provider's console; ``last_error`` keeps who took it.
    """
    notification = Notification.objects.select_for_update().get(pk=notification_id)
    if notification.channel != Channel.SMS or notification.status not in (
        NotificationStatus.DEAD,
        NotificationStatus.FAILED,
    ):
        raise ValidationError(_("只有发送失败的短信可以重发。"))
    notification.status = NotificationStatus.PENDING
    notification.attempts = 0
    notification.not_before = None
    notification.delivery_uncertain = False
    who = getattr(by, "username", None) or "staff"
    notification.last_error = f"resent by {who} at {timezone.now():%Y-%m-%d %H:%M}; before: {notification.last_error}"[:500]
    notification.save(update_fields=["status", "attempts", "not_before", "delivery_uncertain", "last_error"])
    notification_publish_on_commit(notification_id=notification.pk)
    return notification


def inbox_message_open(*, user, notification_id: int) -> Notification:
    """The citizen opens one of their messages: it is marked read (once); Http404 if not theirs."""
    notification = inbox_message_get(user=user, notification_id=notification_id)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
        inbox_unread_forget_on_user(user=user)  # the page about to be rendered shows the new count
        transaction.on_commit(lambda: inbox_unread_forget(user_id=user.pk))
    return notification


def inbox_mark_all_read(*, user) -> int:
    marked = Notification.objects.filter(user=user, channel=Channel.INBOX, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    inbox_unread_forget_on_user(user=user)
    transaction.on_commit(lambda: inbox_unread_forget(user_id=user.pk))
    return marked


def inbox_unread_forget(*, user_id: int) -> None:
    """Drop the account's cached badge count (after the commit that changed it)."""
    try:
        cache.delete(inbox_unread_cache_key(user_id=user_id))
    except Exception:  # noqa: BLE001 - the entry expires on its own (INBOX_UNREAD_CACHE_SECONDS)
        logger.warning("cache unavailable: the inbox badge of account %s may lag", user_id, exc_info=True)
