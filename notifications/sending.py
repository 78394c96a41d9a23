"""Delivering outbox rows (first version: claim, send through the configured gateway, record)."""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.conf import settings

from notifications.gateways.base import GatewayError
from notifications.models import Channel, Notification, NotificationStatus
from notifications.templates_text import render_text


def sms_gateway():
    return import_string(getattr(settings, "SMS_GATEWAY", "notifications.gateways.dev.DevGateway"))()


def notification_deliver(*, notification_id: int) -> None:
    with transaction.atomic():
        notification = Notification.objects.select_for_update().get(pk=notification_id)
        if notification.status not in (NotificationStatus.PENDING, NotificationStatus.FAILED):
            return
        notification.status = NotificationStatus.SENDING
        notification.claimed_at = timezone.now()
        notification.attempts += 1
        notification.save(update_fields=["status", "claimed_at", "attempts"])
    if notification.channel != Channel.SMS:
        return
    text = render_text(notification.template_key, notification.params)
    try:
        result = sms_gateway().send(
            phone=notification.recipient, template_key=notification.template_key, params=notification.params, text=text
        )
    except GatewayError as exc:
        Notification.objects.filter(pk=notification.pk).update(status=NotificationStatus.FAILED, last_error=str(exc)[:500])
        raise
    Notification.objects.filter(pk=notification.pk).update(
        status=NotificationStatus.SENT, provider=result.provider, provider_message_id=result.message_id, sent_at=timezone.now()
    )
