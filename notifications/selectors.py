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


# The header badge is on every citizen page. On PostgreSQL it is counted with the request's user
# (below); elsewhere it is cached per account, and the services that write inbox rows or mark
# them read drop the entry after commit. The expiry bounds the one race left (a
# count taken just before a commit stored just after its drop) to a badge two minutes late.
INBOX_UNREAD_CACHE_SECONDS = 120


def inbox_unread_cache_key(*, user_id: int) -> str:
    return f"inbox-unread:{user_id}"


# The count read with the request's user (``portal.auth_backends``, on PostgreSQL), set on the
# user object under this name. It replaces the cache read: one round trip fewer on every page.
INBOX_UNREAD_ATTRIBUTE = "_inbox_unread_at_sign_in"


def inbox_unread_sql(*, user_column: str) -> str:
    """The badge's count as a sub-select on ``user_column`` (a qualified column holding a user's key)."""
    from django.db import connection

    quote, meta = connection.ops.quote_name, Notification._meta
    column = lambda name: quote(meta.get_field(name).column)  # noqa: E731
    return (
        f"(SELECT count(*) FROM {quote(meta.db_table)} n WHERE n.{column('user')} = {user_column}"
        f" AND n.{column('channel')} = '{Channel.INBOX.value}' AND n.{column('read_at')} IS NULL)"
    )


def inbox_unread_forget_on_user(*, user) -> None:
    """This request changed the account's unread messages: the count read with the user is old.
    (``delattr`` reaches through ``request.user``'s lazy proxy; the instance's ``__dict__`` would not.)"""
    try:
        delattr(user, INBOX_UNREAD_ATTRIBUTE)
    except AttributeError:
        pass


def inbox_unread_count(*, user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    counted = getattr(user, INBOX_UNREAD_ATTRIBUTE, None)
    if counted is not None:
        return counted
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
