"""Handing outbox rows to the broker. Publishing may fail (broker down): the row is already
committed, so a failure is logged and left to the periodic sweep, never raised into a request."""
from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

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


def notification_publish_on_commit(*, notification_id: int, countdown: int | None = None) -> None:
    """Queue after the surrounding transaction commits (a task must never see an uncommitted row)."""
    transaction.on_commit(lambda: notification_publish(notification_id=notification_id, countdown=countdown))
