"""Periodic work (scheduled in CELERY_BEAT_SCHEDULE). Thin: each calls services that check the
current state first, so re-running a task on the same day changes nothing."""
from celery import shared_task

from certifications import services


@shared_task(name="certifications.daily_sweep")
def certifications_daily_sweep() -> dict:
    """Expire certifications and temporary remote-care registrations past their end date, and
    remind people whose extension/re-review window has opened."""
    return {
        "expired": services.certification_expire_due(),
        "reminded": services.certification_remind_due(),
        "remote_care_expired": services.remote_care_expire_due(),
    }
