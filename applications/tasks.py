"""Celery tasks of the applications app: thin wrappers that take ids and call a service."""
from celery import shared_task

from applications.services import material_process


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def material_process_task(material_id: int) -> None:
    """Re-encode one uploaded image, thumbnail it and score its sharpness (idempotent)."""
    material_process(material_id=material_id)


@shared_task(ignore_result=True)
def material_process_sweep() -> None:
    """Periodic (``CELERY_BEAT_SCHEDULE``): re-queue images whose processing task was lost."""
    from applications.services import material_process_pending

    material_process_pending()


@shared_task(ignore_result=True)
def retention_purge() -> None:
    """Periodic (``CELERY_BEAT_SCHEDULE``): purge files and personal data of expired closed cases."""
    from applications.retention import application_purge_expired

    application_purge_expired()
