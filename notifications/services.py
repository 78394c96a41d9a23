"""Outbox services. Domain apps call ``notification_create`` inside the transaction of the event
that causes the notification; the row is the promise, the Celery task only delivers it."""
from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction

from notifications.models import Channel, Notification


def _enqueue_after_commit(notification_id: int) -> None:
    def publish() -> None:
        from notifications.tasks import notification_send

        try:
            notification_send.delay(notification_id)
        except Exception:  # noqa: BLE001 - broker down: the periodic sweep delivers the row later
            import logging

            logging.getLogger(__name__).warning("broker unavailable; notification %s left for the sweep", notification_id)

    transaction.on_commit(publish)


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
    """
    created: list[Notification] = []
    for channel in channels:
        if channel == Channel.SMS:
            recipient = phone or (getattr(user, "phone", None) if user else None)
            if not recipient:
                continue
        else:
            if user is None:
                continue
            recipient = f"user:{user.pk}"
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
                )
        except IntegrityError:
            continue  # already written for this event: idempotent
        created.append(notification)
        if channel == Channel.SMS:
            _enqueue_after_commit(notification.pk)
    return created


def sms_send_login_code(*, phone: str, code: str) -> None:
    """The one SMS sender interface for login/verification codes (allauth's adapter calls it)."""
    import uuid

    notification_create(
        event_key=f"login_code:{uuid.uuid4().hex}",
        template_key="login_code",
        params={"code": code},
        phone=phone,
        channels=(Channel.SMS,),
        urgent=True,
    )
