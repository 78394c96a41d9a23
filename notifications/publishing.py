"""Handing outbox rows to the broker. Publishing may fail (broker down): the row is already
committed, so a failure is logged and left to the periodic sweep, never raised into a request."""
from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import connection, transaction

logger = logging.getLogger(__name__)

# Rows written in one transaction go out as tasks of up to this many ids (``notification_send_batch``):
# Celery's own cost per task (publish, fetch, ack) is then shared by the rows, and a big
# transaction (a digest, a batch of decisions) still spreads over the workers. Each row is claimed
# on its own, exactly as by ``notification_send``.
PUBLISH_BATCH_SIZE = 10

# After a failed publish, skip publishing for a while: a request that writes several rows must not
# wait for a dead broker's connect timeout once per row. The sweep catches up.
BROKER_PAUSE_SECONDS = 15
_paused_until = 0.0


def broker_pause_reset() -> None:
    global _paused_until
    _paused_until = 0.0


def notification_publish(*, notification_id: int, countdown: int | None = None) -> bool:
    """Queue one send task now; True if the broker took it."""
    global _paused_until
    if settings.CELERY_TASK_ALWAYS_EAGER and countdown:
        # Eager mode (the embedded default) would run a delayed retry at once, inline: leave it to
        # `manage.py notifications_sweep` instead.
        return False
    if time.monotonic() < _paused_until:
        return False
    try:
        _apply(notification_id, countdown)
    except Exception:  # noqa: BLE001 - any broker failure: the row waits for the sweep
        _paused_until = time.monotonic() + BROKER_PAUSE_SECONDS
        logger.warning("broker unavailable; notification %s left for the sweep", notification_id, exc_info=True)
        return False
    return True


def _apply(notification_id: int, countdown: int | None) -> None:
    from notifications.tasks import notification_send

    # retry=False: one connection attempt (CELERY_BROKER_CONNECTION_TIMEOUT), not Celery's retry loop.
    notification_send.apply_async((notification_id,), countdown=countdown, retry=False)


def notification_publish_batch(*, notification_ids: list[int]) -> bool:
    """Queue rows to be delivered one after another by one task; True if the broker took it."""
    global _paused_until
    if len(notification_ids) == 1:
        return notification_publish(notification_id=notification_ids[0])
    if time.monotonic() < _paused_until:
        return False
    try:
        _apply_batch(list(notification_ids))
    except Exception:  # noqa: BLE001 - any broker failure: the rows wait for the sweep
        _paused_until = time.monotonic() + BROKER_PAUSE_SECONDS
        logger.warning("broker unavailable; %s notifications left for the sweep", len(notification_ids), exc_info=True)
        return False
    return True


def _apply_batch(notification_ids: list[int]) -> None:
    from notifications.tasks import notification_send_batch

    notification_send_batch.apply_async((notification_ids,), retry=False)


class _TransactionBatch:
    """The SMS rows one transaction wrote, published together after its commit."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.published = False

    def publish(self) -> None:
        # Every row registers this; the first to run after the commit publishes them all.
        if self.published:
            return
        self.published = True
        for start in range(0, len(self.ids), PUBLISH_BATCH_SIZE):
            if not notification_publish_batch(notification_ids=self.ids[start : start + PUBLISH_BATCH_SIZE]):
                break  # broker down: the rest waits for the sweep too


def notification_publish_on_commit(*, notification_id: int, countdown: int | None = None) -> None:
    """Queue after the surrounding transaction commits (a task must never see an uncommitted row).

    The rows of one transaction are published together (``PUBLISH_BATCH_SIZE`` to a task). Each
    row registers its own commit hook, so a row whose savepoint is rolled back does not keep the
    others from being published; its id may still travel in a task, which finds no row.
    """
    if countdown or not connection.in_atomic_block:
        transaction.on_commit(lambda: notification_publish(notification_id=notification_id, countdown=countdown))
        return
    batch = _open_batch()
    batch.ids.append(notification_id)
    transaction.on_commit(batch.publish)


def _open_batch() -> _TransactionBatch:
    # The batch of the transaction in progress: one of its commit hooks is still pending. (A
    # transaction that rolled back took its hooks with it, and its batch is not reused.)
    batch = getattr(connection, "_notifications_batch", None)
    pending = connection.run_on_commit
    if batch is None or batch.published or not any(func == batch.publish for _, func, _ in reversed(pending)):
        batch = _TransactionBatch()
        connection._notifications_batch = batch
    return batch
