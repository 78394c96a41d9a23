"""Delivering SMS outbox rows: claim, (look up,) send, record; and the sweep that recovers rows.

A row is claimed in a short transaction (locked, moved to sending, attempts + 1, marked uncertain)
before the provider is called, so two workers never send the same row. ``delivery_uncertain``
stays set if the worker dies or the provider's answer is lost; the next attempt then asks the
gateway for the row's reference before sending again, because providers are not idempotent.

Only the claim has to reach the disk before the provider is called. Recording a success does not
wait for the database's write-ahead-log flush: if the database crashed before that flush, the row
would come back as the flushed claim left it (sending, ``delivery_uncertain``), and the sweep
and a lookup settle it without sending again, as after a worker crash.
"""
from __future__ import annotations

import functools
import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from portal import prepared
from notifications.gateways.base import GatewayError, Lookup
from notifications.gateways.config import sms_gateway
from notifications.limits import (
    ACCOUNT_SMS_KEYS,
    quiet_hours_end,
    recipient_lock,
    recipient_lock_sql,
    sms_daily_limit_params,
    sms_daily_limit_reached,
    sms_daily_limit_reached_sql,
    sms_daily_next_slot,
)
from notifications.models import Channel, Notification, NotificationStatus
from notifications.publishing import notification_publish, notification_publish_on_commit
from notifications.templates_text import render_text

logger = logging.getLogger(__name__)

DUE_STATUSES = (NotificationStatus.PENDING, NotificationStatus.FAILED)


def retry_delay(*, attempt: int) -> int:
    """Exponential backoff after the ``attempt``-th failure: base, 2×base, 4×base … at most an hour."""
    return min(settings.NOTIFICATIONS["RETRY_BASE_SECONDS"] * 2 ** max(attempt - 1, 0), 3600)


def notification_deliver(*, notification_id: int) -> str:
    """Deliver one SMS row if it is due; returns what happened (for logs and tests).

    Safe to run twice or concurrently: only the run that claims the row goes on.
    """
    claim = _claim(notification_id=notification_id)
    if isinstance(claim, str):
        return claim
    notification, previous_uncertain, previous_claimed_at = claim
    attempt = notification.attempts
    reference = str(notification.reference)
    try:
        gateway = sms_gateway()
        found = (
            gateway.lookup(phone=notification.recipient, reference=reference, attempted_at=previous_claimed_at)
            if previous_uncertain
            else None
        )
    except Exception as exc:  # noqa: BLE001 - misconfigured gateway or a failed lookup: nothing was sent now
        logger.warning("SMS gateway/lookup failed for notification %s: %r", notification.pk, exc)
        error = exc if isinstance(exc, GatewayError) else GatewayError(repr(exc))
        # Keep the uncertainty of the earlier attempt: the next one must still look it up.
        error.uncertain = previous_uncertain
        error.retry_after = None
        return _record_failure(notification, attempt=attempt, exc=error)

    if found is not None:
        if found.outcome is Lookup.FOUND:
            _record_sent(notification, provider=found.provider, message_id=found.message_id)
            return "found"
        if found.outcome is Lookup.UNKNOWN:
            # Sending again could be a duplicate, not sending could lose a supplement request:
            # a person decides (admin: filter "结果待核实", then resend or leave).
            _record_outcome(
                notification,
                attempt=attempt,
                status=NotificationStatus.DEAD,
                uncertain=True,
                error=f"manual check needed: earlier attempt may have been sent ({found.detail})",
            )
            return "manual_check"

    try:
        text = render_text(notification.template_key, notification.params)
        result = gateway.send(
            phone=notification.recipient,
            template_key=notification.template_key,
            params=notification.params,
            text=text,
            reference=reference,
        )
    except GatewayError as exc:
        return _record_failure(notification, attempt=attempt, exc=exc)
    except (KeyError, ValueError) as exc:  # unknown template or missing params: no retry can fix it
        return _record_failure(notification, attempt=attempt, exc=GatewayError(repr(exc), retryable=False))
    except Exception as exc:  # noqa: BLE001 - a gateway bug: it may have sent, so look it up next time
        logger.exception("SMS gateway raised unexpectedly for notification %s", notification.pk)
        return _record_failure(notification, attempt=attempt, exc=GatewayError(repr(exc), uncertain=True))
    _record_sent(notification, provider=result.provider, message_id=result.message_id)
    return "sent"


def _claim(*, notification_id: int):
    now = timezone.now()
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        claimed = _claim_in_one_round_trip(notification_id=notification_id, now=now)
        if claimed is not None:
            return claimed
    # Not claimed at once (not due, quiet hours, the number's limit, taken, a duplicate task), or
    # SQLite, or inside a caller's transaction: the same decision step by step, saying why.
    with transaction.atomic():
        # skip_locked: a row another worker is claiming right now is theirs. Only a due SMS row is
        # locked: a duplicate task for a row already sending or sent reads without a row lock,
        # whose commit would otherwise wait for a log flush like a real claim.
        notification = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(pk=notification_id, channel=Channel.SMS, status__in=DUE_STATUSES)
            .first()
        )
        if notification is None:
            return _why_not_claimed(notification_id=notification_id)
        if notification.not_before and notification.not_before > now:
            return "not_yet"
        if not notification.urgent and (until := quiet_hours_end(now=now)):
            notification.not_before = until
            notification.save(update_fields=["not_before"])
            return "quiet_hours"
        recipient_lock(recipient=notification.recipient)
        previous = (notification.delivery_uncertain, notification.claimed_at)
        claim = {
            "status": NotificationStatus.SENDING,
            "claimed_at": now,
            "attempts": notification.attempts + 1,  # the row is locked: no lost update
            "delivery_uncertain": True,
        }
        row = Notification.objects.filter(pk=notification.pk)
        # Login codes and account notices have their own limits (checked when they were written).
        if notification.template_key not in ACCOUNT_SMS_KEYS:
            row = row.exclude(sms_daily_limit_reached(phone=notification.recipient, now=now))
        if not row.update(**claim):
            # The number has had its day's SMS: wait until the oldest of them leaves the window.
            # (None only if one of them failed meanwhile: then the sweep brings this row back.)
            notification.not_before = sms_daily_next_slot(phone=notification.recipient, now=now) or now
            notification.last_error = "per-number daily SMS limit reached; waiting"
            notification.save(update_fields=["not_before", "last_error"])
            return "limited"
        for field, value in claim.items():
            setattr(notification, field, value)
    return notification, *previous


def _claim_in_one_round_trip(*, notification_id: int, now: datetime):
    """The usual claim (a due row, the number under its limit) as one round trip; None if the row
    was not claimed, and ``_claim`` then takes the general path, which also says why.

    Two statements in one query string, which PostgreSQL runs as one transaction (autocommit
    here): the first locks the row (skip_locked) and then the number's lock; the second, whose
    snapshot is taken after that lock, checks the daily limit and claims. Its commit waits for
    the log flush, so the claim is durable before the provider is called, as on the general path.
    Both statements repeat every condition of the general path: it claims exactly when that would.
    """
    params = {
        "id": notification_id,
        "now": now,
        "quiet_hours_over": quiet_hours_end(now=now) is None,
        **sms_daily_limit_params(now=now),
    }
    with connection.cursor() as cursor:
        prepared.execute(cursor, _claim_statements(), params)
        row = cursor.fetchone()
    if row is None:
        return None
    attempts, recipient, template_key, raw_params, reference, previous_uncertain, previous_claimed_at = row
    loaded = {
        "id": notification_id,
        "status": NotificationStatus.SENDING.value,
        "attempts": attempts,
        "claimed_at": now,
        "delivery_uncertain": True,
        "recipient": recipient,
        "template_key": template_key,
        "params": Notification._meta.get_field("params").from_db_value(raw_params, None, connection),
        "reference": reference if isinstance(reference, uuid.UUID) else uuid.UUID(reference),
    }
    # from_db takes the values in the model's field order; the other fields stay deferred.
    notification = Notification.from_db(
        connection.alias, list(loaded), [loaded[f.attname] for f in Notification._meta.concrete_fields if f.attname in loaded]
    )
    return notification, previous_uncertain, previous_claimed_at


_CLAIM_TYPES = {
    "id": "bigint", "now": "timestamptz", "quiet_hours_over": "boolean", "window_start": "timestamptz", "limit_offset": "bigint",
}


@functools.cache
def _claim_statements() -> tuple[prepared.Prepared, prepared.Prepared]:
    """The claim's two statements, prepared once per connection (``portal.prepared``)."""
    lock, claim = _claim_sql().split("; ", 1)
    return (prepared.Prepared("notification_claim_lock", lock, _CLAIM_TYPES),
            prepared.Prepared("notification_claim", claim, _CLAIM_TYPES))


@functools.cache
def _claim_sql() -> str:
    quote = connection.ops.quote_name
    meta = Notification._meta
    table = quote(meta.db_table)

    def column(name: str) -> str:
        return quote(meta.get_field(name).column)

    due_statuses = ", ".join(f"'{status.value}'" for status in DUE_STATUSES)
    # The general path's conditions: a due SMS row nobody else is claiming, not held back by
    # not_before, not a non-urgent row during quiet hours.
    due = (
        f"SELECT {{columns}} FROM {table} WHERE {column('id')} = %(id)s"
        f" AND {column('channel')} = '{Channel.SMS.value}' AND {column('status')} IN ({due_statuses})"
        f" AND ({column('not_before')} IS NULL OR {column('not_before')} <= %(now)s)"
        f" AND ({column('urgent')} OR %(quiet_hours_over)s)"
        " FOR UPDATE SKIP LOCKED"
    )
    account_keys = ", ".join(f"'{key}'" for key in ACCOUNT_SMS_KEYS)
    claimed = f"{table}.{{}}".format
    return (
        f"SELECT {recipient_lock_sql(recipient_column=quote('recipient'))}"
        f" FROM ({due.format(columns=column('recipient'))}) due; "
        f"UPDATE {table} SET {column('status')} = '{NotificationStatus.SENDING.value}',"
        f" {column('claimed_at')} = %(now)s, {column('attempts')} = {claimed(column('attempts'))} + 1,"
        f" {column('delivery_uncertain')} = true"
        f" FROM ({due.format(columns=', '.join(column(name) for name in ('id', 'delivery_uncertain', 'claimed_at')))})"
        " before"
        f" WHERE {claimed(column('id'))} = before.{column('id')}"
        # Login codes and account notices have their own limits (checked when they were written).
        f" AND ({claimed(column('template_key'))} IN ({account_keys})"
        f" OR NOT {sms_daily_limit_reached_sql(recipient_column=claimed(column('recipient')))})"
        f" RETURNING {', '.join(claimed(column(name)) for name in ('attempts', 'recipient', 'template_key', 'params', 'reference'))},"
        f" before.{column('delivery_uncertain')}, before.{column('claimed_at')}"
    )


def _why_not_claimed(*, notification_id: int) -> str:
    row = Notification.objects.filter(pk=notification_id).values_list("channel", "status").first()
    if row is None:
        return "busy_or_missing"
    channel, status = row
    if channel != Channel.SMS:
        return "not_sms"
    if status not in DUE_STATUSES:
        return f"skipped_{status}"
    return "busy_or_missing"  # due, but locked by another worker's claim


def _record_sent(notification: Notification, *, provider: str, message_id: str) -> None:
    # Whichever attempt learns of the success records it; a success is never overwritten.
    values = {
        "status": NotificationStatus.SENT.value,
        "provider": provider[:30],
        "provider_message_id": message_id[:100],
        "sent_at": timezone.now(),
        "delivery_uncertain": False,
        "not_before": None,
    }
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        _update_sent_without_flush_wait(notification_id=notification.pk, values=values)
    else:  # SQLite, or inside a caller's transaction (whose commit must not change)
        Notification.objects.filter(pk=notification.pk).exclude(status=NotificationStatus.SENT).update(**values)


def _update_sent_without_flush_wait(*, notification_id: int, values: dict) -> None:
    """The success UPDATE as one statement in its own transaction, committed without waiting for
    the log flush (``synchronous_commit = off``: a crash may lose it, never corrupt it; losing it is
    safe, see the module docstring). One round trip instead of BEGIN, SET, UPDATE and COMMIT; the
    UPDATE is prepared once per connection."""
    with connection.cursor() as cursor:
        prepared.execute(
            cursor,
            ("SET LOCAL synchronous_commit TO OFF", _sent_statement()),
            {**values, "id": notification_id, "already_sent": NotificationStatus.SENT.value},
        )


_SENT_TYPES = {
    "status": "text", "provider": "text", "provider_message_id": "text", "sent_at": "timestamptz",
    "delivery_uncertain": "boolean", "not_before": "timestamptz", "id": "bigint", "already_sent": "text",
}


@functools.cache
def _sent_statement() -> prepared.Prepared:
    """The success UPDATE for the values ``_record_sent`` sets (the fields of ``_SENT_TYPES``)."""
    quote = connection.ops.quote_name
    meta = Notification._meta
    fields = [name for name in _SENT_TYPES if name not in ("id", "already_sent")]
    assignments = ", ".join(f"{quote(meta.get_field(name).column)} = %({name})s" for name in fields)
    return prepared.Prepared(
        "notification_sent",
        f"UPDATE {quote(meta.db_table)} SET {assignments} "
        f"WHERE {quote(meta.pk.column)} = %(id)s AND {quote(meta.get_field('status').column)} <> %(already_sent)s",
        _SENT_TYPES,
    )


def _record_outcome(
    notification: Notification,
    *,
    attempt: int,
    status: str,
    uncertain: bool,
    error: str,
    not_before: datetime | None = None,
    attempts_delta: int = 0,
) -> bool:
    # Only the attempt that still owns the claim records a failure: a sweep may have re-queued the
    # row meanwhile, and an old attempt's failure must not undo a newer one's work.
    updated = Notification.objects.filter(
        pk=notification.pk, status=NotificationStatus.SENDING, attempts=attempt
    ).update(
        status=status,
        delivery_uncertain=uncertain,
        last_error=error[:500],
        not_before=not_before,
        attempts=F("attempts") + attempts_delta,
    )
    return bool(updated)


def _record_failure(notification: Notification, *, attempt: int, exc: GatewayError) -> str:
    now = timezone.now()
    if exc.retry_after:
        # Throttled by the provider: nothing was sent; wait for its window without spending an attempt.
        not_before = now + timedelta(seconds=exc.retry_after)
        if _record_outcome(
            notification,
            attempt=attempt,
            status=NotificationStatus.FAILED,
            uncertain=False,
            error=str(exc),
            not_before=not_before,
            attempts_delta=-1,
        ):
            notification_publish(notification_id=notification.pk, countdown=exc.retry_after)
        return "throttled"
    if exc.retryable and attempt < settings.NOTIFICATIONS["MAX_ATTEMPTS"]:
        delay = retry_delay(attempt=attempt)
        if _record_outcome(
            notification,
            attempt=attempt,
            status=NotificationStatus.FAILED,
            uncertain=exc.uncertain,
            error=str(exc),
            not_before=now + timedelta(seconds=delay),
        ):
            notification_publish(notification_id=notification.pk, countdown=delay)
        return "retry"
    _record_outcome(notification, attempt=attempt, status=NotificationStatus.DEAD, uncertain=exc.uncertain, error=str(exc))
    logger.warning("notification %s is dead after %s attempt(s): %s", notification.pk, attempt, exc)
    return "dead"


def outbox_sweep(*, now: datetime | None = None, batch: int = 500) -> dict[str, int]:
    """The periodic safety net: recover rows stuck in sending and re-queue rows whose time has come.

    A stuck row (claimed longer ago than any task may run) goes back to failed with its
    ``delivery_uncertain`` flag kept, so its next attempt looks the reference up before sending.
    """
    now = now or timezone.now()
    limits = settings.NOTIFICATIONS
    stuck_before = now - timedelta(seconds=limits["SENDING_STUCK_AFTER_SECONDS"])
    with transaction.atomic():
        stuck = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(channel=Channel.SMS, status=NotificationStatus.SENDING, claimed_at__lt=stuck_before)
            .values_list("pk", flat=True)[:batch]
        )
        Notification.objects.filter(pk__in=stuck).update(
            status=NotificationStatus.FAILED,
            delivery_uncertain=True,
            not_before=None,
            last_error="stuck in sending (worker lost?); will look up before resending",
        )
    # A grace period keeps the sweep from racing the task published at commit (a duplicate task
    # would be harmless, only wasteful).
    due_before = now - timedelta(seconds=limits["SWEEP_PENDING_GRACE_SECONDS"])
    due = list(
        Notification.objects.filter(channel=Channel.SMS, status__in=DUE_STATUSES)
        .annotate(due_at=Coalesce("not_before", "created_at"))
        .filter(due_at__lte=due_before)
        .exclude(pk__in=stuck)
        .order_by("due_at")
        .values_list("pk", flat=True)[:batch]
    )
    queued = 0
    for pk in [*stuck, *due]:
        if not notification_publish(notification_id=pk):
            break  # broker down: everything stays for the next sweep
        queued += 1
    if stuck or due:
        logger.info("outbox sweep: %s stuck recovered, %s due, %s queued", len(stuck), len(due), queued)
    return {"stuck": len(stuck), "due": len(due), "queued": queued}


__all__ = ["notification_deliver", "outbox_sweep", "retry_delay", "notification_publish_on_commit"]
