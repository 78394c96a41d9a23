import uuid
from datetime import datetime

from notifications.gateways.base import Lookup, LookupResult, SendResult, SmsGateway
from notifications.models import DevSms


class DevGateway(SmsGateway):
    """Stores messages in the database instead of sending them (make run, tests, /dev/outbox/)."""

    name = "dev"

    def send(self, *, phone: str, template_key: str, params: dict, text: str, reference: str = "") -> SendResult:
        message_id = f"dev-{uuid.uuid4().hex}"
        DevSms.objects.create(
            phone=phone, template_key=template_key, text=text, params=params, message_id=message_id, reference=reference
        )
        return SendResult(provider=self.name, message_id=message_id)

    def lookup(self, *, phone: str, reference: str, attempted_at: datetime | None) -> LookupResult:
        sms = DevSms.objects.filter(reference=reference).order_by("pk").first() if reference else None
        if sms is None:
            return LookupResult(Lookup.NOT_FOUND, provider=self.name)
        return LookupResult(Lookup.FOUND, provider=self.name, message_id=sms.message_id)
