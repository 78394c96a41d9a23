"""Celery tasks: thin, they take IDs and call a service. Retries are the outbox's (``not_before``
plus the sweep), not Celery's, so a lost task never loses a notification."""
from celery import shared_task

from notifications.sending import notification_deliver, outbox_sweep


@shared_task(ignore_result=True, acks_late=True)
def notification_send(notification_id: int) -> str:
    """Deliver one outbox row; the service checks its status, so re-running is harmless."""
    return notification_deliver(notification_id=notification_id)


@shared_task(ignore_result=True)
def notification_sweep() -> dict:
    """Periodic (``CELERY_BEAT_SCHEDULE``): recover stuck rows, re-queue rows whose time has come."""
    return outbox_sweep()


@shared_task(ignore_result=True, acks_late=True)
def bench_noop() -> None:
    """Does nothing: ``bench/notifications_drain.py`` measures the broker and worker floor with it."""
