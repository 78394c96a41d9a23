"""Celery tasks: thin, they take IDs and call a service. Retries are the outbox's (``not_before``
plus the sweep), not Celery's, so a lost task never loses a notification."""
import logging
import time

from celery import shared_task

from notifications.publishing import notification_publish_batch
from notifications.sending import notification_deliver, outbox_sweep

logger = logging.getLogger(__name__)

# A batch stops taking rows after this long and queues the rest as a new task: far inside
# CELERY_TASK_SOFT_TIME_LIMIT even if its last row waits for two provider timeouts (send, lookup).
BATCH_SECONDS = 30


@shared_task(ignore_result=True, acks_late=True)
def notification_send(notification_id: int) -> str:
    """Deliver one outbox row; the service checks its status, so re-running is harmless."""
    return notification_deliver(notification_id=notification_id)


@shared_task(ignore_result=True, acks_late=True)
def notification_send_batch(notification_ids: list[int]) -> dict[str, int]:
    """Deliver the rows of one transaction one after another, each claimed on its own as by
    ``notification_send``: a crash leaves at most the row in hand uncertain, the others due (the
    redelivered task or the sweep picks them up; rows already sent are skipped)."""
    started = time.monotonic()
    outcomes: dict[str, int] = {}
    for position, notification_id in enumerate(notification_ids):
        if position and time.monotonic() - started > BATCH_SECONDS:  # at least one row per task
            rest = notification_ids[position:]
            if not notification_publish_batch(notification_ids=rest):
                logger.warning("%s notifications left for the sweep (broker unavailable)", len(rest))
            outcomes["requeued"] = len(rest)
            break
        try:
            outcome = notification_deliver(notification_id=notification_id)
        except Exception:  # noqa: BLE001 - e.g. the database went away: this row waits for the sweep
            logger.exception("delivering notification %s failed; left for the sweep", notification_id)
            outcome = "error"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


@shared_task(ignore_result=True)
def notification_sweep() -> dict:
    """Periodic (``CELERY_BEAT_SCHEDULE``): recover stuck rows, re-queue rows whose time has come."""
    return outbox_sweep()


@shared_task(ignore_result=True, acks_late=True)
def bench_noop() -> None:
    """Does nothing: ``bench/notifications_drain.py`` measures the broker and worker floor with it."""
