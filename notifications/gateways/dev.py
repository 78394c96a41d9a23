import functools
import uuid
from datetime import datetime

from django.db import connection
from django.utils import timezone

from notifications.gateways.base import Lookup, LookupResult, SendResult, SmsGateway
from notifications.models import DevSms


class DevGateway(SmsGateway):
    """Stores messages in the database instead of sending them (make run, tests, /dev/outbox/)."""

    name = "dev"

    def send(self, *, phone: str, template_key: str, params: dict, text: str, reference: str = "") -> SendResult:
        message_id = f"dev-{uuid.uuid4().hex}"
        values = {
            "phone": phone,
            "template_key": template_key,
            "text": text,
            "params": params,
            "message_id": message_id,
            "reference": reference,
            "created_at": timezone.now(),
        }
        # A plain INSERT written once (values prepared by the fields, as the ORM would): this
        # "provider" sits in every delivery of the drain benchmark, where building the model and
        # compiling the ORM's INSERT cost more than the write itself. Nothing reads the row back.
        #
        # Committed without waiting for the log flush: a real provider costs our database nothing,
        # and this stand-in's flush queued behind (and delayed) the claims' flushes, which are the
        # ones that matter. A crash may lose the row; then the provider "never got" the message,
        # the claim (flushed) leaves it uncertain, and the lookup below finds nothing and it is
        # sent once more: still exactly one row. Inside a caller's transaction its commit decides.
        sql = _insert_sql()
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            sql = "SET LOCAL synchronous_commit TO OFF; " + sql
        with connection.cursor() as cursor:
            cursor.execute(
                sql,
                {name: DevSms._meta.get_field(name).get_db_prep_save(value, connection) for name, value in values.items()},
            )
        return SendResult(provider=self.name, message_id=message_id)

    def lookup(self, *, phone: str, reference: str, attempted_at: datetime | None) -> LookupResult:
        sms = DevSms.objects.filter(reference=reference).order_by("pk").first() if reference else None
        if sms is None:
            return LookupResult(Lookup.NOT_FOUND, provider=self.name)
        return LookupResult(Lookup.FOUND, provider=self.name, message_id=sms.message_id)


@functools.cache
def _insert_sql() -> str:
    quote = connection.ops.quote_name
    meta = DevSms._meta
    names = ("phone", "template_key", "text", "params", "message_id", "reference", "created_at")
    columns = ", ".join(quote(meta.get_field(name).column) for name in names)
    placeholders = ", ".join(f"%({name})s" for name in names)
    return f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})"
