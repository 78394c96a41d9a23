"""The Celery app. Its configuration lives in Django settings (``CELERY_*``), in one place."""
import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
@signals.task_postrun.connect
def close_old_db_connections(task=None, **kwargs) -> None:
    """Around every task, what Django does around every request: drop the database connection
    if it is broken, in an unfinished transaction or older than ``CONN_MAX_AGE``; a kept one is
    health-checked on first use (``CONN_HEALTH_CHECKS``).

    Celery's own Django fixup simply closes the connection after every task (it ignores
    ``CONN_MAX_AGE``) unless ``CELERY_DB_REUSE_MAX`` is set, which settings do when
    ``DB_CONN_MAX_AGE`` > 0; this handler then keeps the web's rules for a kept connection.
    """
    if task is None or getattr(task.request, "is_eager", False):
        return  # an eager task runs inside the caller's request and transaction
    from django.db import close_old_connections

    close_old_connections()
