from celery import shared_task

from notifications.sending import notification_deliver


@shared_task(ignore_result=True)
def notification_send(notification_id: int) -> None:
    """Thin: deliver one outbox row; the service checks its status, so re-running is harmless."""
    notification_deliver(notification_id=notification_id)
