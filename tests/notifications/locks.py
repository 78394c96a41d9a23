"""A notification row locked by another worker's claim, for the "skipped, not waited for" tests."""
import contextlib
import threading

from django.db import connections, transaction

from notifications.models import Notification


@contextlib.contextmanager
def row_locked_elsewhere(pk: int):
    """Hold ``SELECT … FOR UPDATE`` on the row from another connection (a thread) while the
    block runs, as a worker in the middle of claiming it would. Needs ``transaction=True``."""
    locked, release = threading.Event(), threading.Event()

    def other_worker():
        try:
            with transaction.atomic():
                Notification.objects.select_for_update().get(pk=pk)
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert locked.wait(10), "the other connection never locked the row"
        yield
    finally:
        release.set()
        thread.join(10)
