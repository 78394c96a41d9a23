"""Reads for the message centre, the header badge and the developer inbox."""
from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from notifications.models import Channel, DevSms, Notification


def inbox_list_for_user(*, user) -> QuerySet[Notification]:
    """The one rule for the message centre: a citizen sees only their own in-site messages."""
    return Notification.objects.filter(user=user, channel=Channel.INBOX).order_by("-created_at", "-pk")


def inbox_message_get(*, user, notification_id: int) -> Notification:
    notification = inbox_list_for_user(user=user).filter(pk=notification_id).first()
    if notification is None:
        raise Http404
    return notification


def inbox_unread_count(*, user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return inbox_list_for_user(user=user).filter(read_at__isnull=True).count()


def dev_sms_list_recent(*, limit: int = 50) -> QuerySet[DevSms]:
    return DevSms.objects.order_by("-created_at", "-pk")[:limit]
