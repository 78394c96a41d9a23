"""Periodic staff work. Tasks are thin: they call a service and return what it did."""
from celery import shared_task


@shared_task(name="reviews.tasks.overdue_digest_send")
def overdue_digest_send() -> int:
    from reviews.services import overdue_digest_send as send

    return send()
