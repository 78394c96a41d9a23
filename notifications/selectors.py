"""Reads for the message centre, the header badge and the developer inbox."""
from __future__ import annotations

import logging

from django.core.cache import cache
from django.db.models import QuerySet
from django.http import Http404

from notifications.models import Channel, DevSms, Notification

logger = logging.getLogger(__name__)


def inbox_list_for_user(*, user) -> QuerySet[Notification]:
    """The one rule for the message centre: a citizen sees only their own in-site messages."""
    return Notification.objects.filter(user=user, channel=Channel.INBOX).order_by("-created_at", "-pk")


def inbox_message_get(*, user, notification_id: int) -> Notification:
    notification = inbox_list_for_user(user=user).filter(pk=notification_id).first()
    if notification is None:
        raise Http404
    return notification


# The header badge is on every citizen page. Cached per account; the services that write inbox
# rows or mark them read drop the entry after commit. The expiry bounds the one race left (a
# count taken just before a commit stored just after its drop) to a badge two minutes late.
INBOX_UNREAD_CACHE_SECONDS = 120


def inbox_unread_cache_key(*, user_id: int) -> str:
    return f"inbox-unread:{user_id}"


def inbox_unread_count(*, user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    key = inbox_unread_cache_key(user_id=user.pk)
    try:
        cached = cache.get(key)
    except Exception:  # noqa: BLE001 - a cache outage costs a COUNT, never the page
        logger.warning("cache unavailable for the inbox badge; counting", exc_info=True)
        cached = None
    if cached is not None:
        return cached
    count = inbox_list_for_user(user=user).filter(read_at__isnull=True).count()
    try:
        cache.set(key, count, INBOX_UNREAD_CACHE_SECONDS)
    except Exception:  # noqa: BLE001
        pass
    return count


def dev_sms_list_recent(*, limit: int = 50) -> QuerySet[DevSms]:
    return DevSms.objects.order_by("-created_at", "-pk")[:limit]
