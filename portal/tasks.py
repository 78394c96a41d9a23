"""Celery tasks of the site shell: thin, they call a service."""
from celery import shared_task

from portal.services import session_clear_expired as _session_clear_expired


@shared_task(ignore_result=True)
def session_clear_expired() -> int:
    """Nightly (``CELERY_BEAT_SCHEDULE``); deleting what has expired is harmless to repeat."""
    return _session_clear_expired()
