"""Readiness checks for ``/healthz``: every configured part must answer, quickly."""
from __future__ import annotations

import uuid
from time import monotonic

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection


def _timed(check) -> dict:
    started = monotonic()
    try:
        detail = check()
        result = {"ok": True}
        if detail:
            result["detail"] = detail
    except Exception as exc:  # noqa: BLE001 - a health check reports every failure
        result = {"ok": False, "error": exc.__class__.__name__}
    result["ms"] = round((monotonic() - started) * 1000, 1)
    return result


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


def _cache() -> str:
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=5)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return the value just written")
    cache.delete(key)
    return "redis" if settings.REDIS_URL else "locmem"


def _broker() -> str:
    from portal.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=settings.HEALTHZ_TIMEOUT_SECONDS)
    return conn.transport_cls if isinstance(conn.transport_cls, str) else "redis"


def _storage() -> str:
    # Write, read back and delete a tiny probe object: proves credentials and permissions,
    # not just that a bucket name is configured.
    name = default_storage.save(f"healthz/{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
    try:
        with default_storage.open(name, "rb") as handle:
            if handle.read() != b"ok":
                raise RuntimeError("storage returned different bytes")
    finally:
        default_storage.delete(name)
    return settings.STORAGE_BACKEND


def health_report() -> tuple[bool, dict]:
    checks = {"database": _timed(_database), "cache": _timed(_cache), "storage": _timed(_storage)}
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        checks["broker"] = _timed(_broker)
    else:
        checks["broker"] = {"ok": True, "detail": "eager (no broker configured)"}
    healthy = all(item["ok"] for item in checks.values())
    return healthy, checks
